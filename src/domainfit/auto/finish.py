"""The final stage of ``domainfit auto``: the winner against its baselines, diagnosed, refit on
every labelled row when that pays (``refit``), exported, and written down as a plain fit config
(``winner.yaml``).

A baseline whose config equals a finished step's (the linear probe; source_only of an
adaptation that retrained the same recipe) reuses that step's run folder instead of training it
again; one that does not fit the time left is skipped and says so."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from domainfit.auto import refit
from domainfit.auto.budget import duration
from domainfit.auto.plan import SOURCE_ONLY_PHASES
from domainfit.auto.runner import FLOOR_STEP_SECONDS, Experiment
from domainfit.baselines import baseline_config, run_baselines
from domainfit.config import RunConfig
from domainfit.config_io import load_config
from domainfit.errors import DomainfitError
from domainfit.progress import say, stage

BASELINES = ("scratch", "linear_probe", "source_only")


def final_stage(exp: Experiment, winner: dict[str, Any]) -> dict[str, Any]:
    wdir = exp.out / winner["dir"]
    wcfg = load_config(wdir / "config.yaml")
    wcfg.train.max_seconds = None
    timings: dict[str, float] = {}
    out: dict[str, Any] = {}
    for part, fn in (
        ("baselines", lambda: _baselines(exp, wcfg, wdir)),
        ("diagnosis", lambda: _diagnose(wdir)),
        ("refit", lambda: refit.run(exp, winner, wcfg)),
        ("export", lambda: _export(exp, refit.exported_run(exp, winner, out["refit"]))),
    ):
        start = time.monotonic()
        say(f"final: {part} ({duration(exp.clock.left())} left)")
        out[part] = fn()
        timings[part] = round(time.monotonic() - start, 2)
    out["winner_yaml"] = write_winner(exp, winner, wcfg, bool(out["refit"].get("dir")))
    out["timings"] = timings
    return out


def _normalised(cfg: RunConfig) -> dict[str, Any]:
    """What decides a run's result: names, tracking, the deadline and unused sections aside."""
    d = cfg.model_dump(mode="json")
    for key in ("name", "baselines", "track", "sweep"):
        d.pop(key, None)
    d["train"].pop("max_seconds", None)
    if not cfg.adapt.enabled:
        d["adapt"] = {"protocol": cfg.adapt.protocol}
    if cfg.strategy.name == "linear_probe":  # reads no other strategy setting
        d["strategy"] = {"name": "linear_probe", "cache_dir": cfg.strategy.cache_dir}
    return d


def _same_step(exp: Experiment, cfg: RunConfig) -> dict[str, Any] | None:
    want = _normalised(cfg)
    for row in exp.done(*SOURCE_ONLY_PHASES, "adapt"):
        saved = exp.out / row["dir"] / "config.yaml"
        if saved.is_file() and _normalised(load_config(saved)) == want:
            return row
    return None


def _baselines(exp: Experiment, wcfg: RunConfig, wdir: Path) -> dict[str, Any]:
    from domainfit.fit import run_fit

    names = [b for b in BASELINES if b != "source_only" or exp.setup.has_target]
    kept: list[str] = []
    notes: dict[str, str] = {}
    pretrained = _without_warm_start(wcfg, exp.out)
    for name in names:
        # source_only keeps a warm start (the same epoch without the loss); scratch and the
        # probe are measured against the pretrained model, as for any other winner
        bcfg, _ = baseline_config(wcfg if name == "source_only" else pretrained, name)
        bdir = wdir / "baselines" / name
        if bcfg is None or (bdir / "metrics.json").is_file():
            kept.append(name)  # run_baselines says why it does not apply, or reads it
            continue
        if bdir.exists():
            shutil.rmtree(bdir)  # interrupted in an earlier attempt
        same = _same_step(exp, bcfg)
        if same is not None:
            shutil.copytree(
                exp.out / same["dir"], bdir, ignore=shutil.ignore_patterns("checkpoints")
            )
            notes[name] = f"step {same['id']} ran this very config: its run is the baseline"
            kept.append(name)
            continue
        model = bcfg.model.backbone if bcfg.model else exp.models[0]
        costs = exp.costs.get(model, next(iter(exp.costs.values())))
        from domainfit.auto.plan import estimate

        est = estimate(bcfg, exp.sizes, costs) * exp.factor(exp.kind(bcfg))
        # the diagnosis, the refit (reserved on small data) and the export still to come: in
        # auto.json's first kitchen-200 run the scratch baseline took the refit's 9 minutes
        later = refit.reserved(exp, exp.winner_step()) * exp.factor()
        room = exp.clock.left() - exp.last_parts() - later
        if est > room:
            notes[name] = f"skipped: needs ~{duration(est)}, {duration(max(room, 0))} left"
            say(f"baseline {name} {notes[name]}")
            continue
        bcfg.train.max_seconds = max(FLOOR_STEP_SECONDS, room - costs.overhead)
        try:
            with stage(f"baseline {name}"):
                run_fit(bcfg, exp.setup.base_dir, bdir, resume=False)
        except Exception as err:
            notes[name] = f"failed: {_line(err)}"
            shutil.rmtree(bdir, ignore_errors=True)
            continue
        kept.append(name)
    compared: dict[str, Any] = {}
    if kept:
        compared = run_baselines(wcfg.model_copy(update={"baselines": kept}), None, wdir)
    return {"compared": compared, "notes": notes}


def _without_warm_start(cfg: RunConfig, out: Path) -> RunConfig:
    """``cfg`` without the weights of an earlier step that an adaptation continued from."""
    weights = cfg.model.weights if cfg.model else None
    if weights is None or not Path(weights).resolve().is_relative_to(out.resolve()):
        return cfg
    assert cfg.model is not None
    return cfg.model_copy(update={"model": cfg.model.model_copy(update={"weights": None})})


def _diagnose(wdir: Path) -> dict[str, Any]:
    from domainfit.api import diagnose

    try:
        found = diagnose(run=wdir)
    except Exception as err:  # the experiment stands without it
        return {"error": _line(err), "findings": []}
    return {"findings": [f.to_dict() for f in found.findings], "skipped": found.skipped}


def _export(exp: Experiment, wdir: Path) -> dict[str, Any]:
    """ONNX for text and image models (``domainfit export``'s default); the mlp's inputs are
    feature rows that ONNX export does not take, so it gets safetensors."""
    from domainfit.export import export_run

    target = exp.out / "model"
    if target.exists():  # derived from the winner: written again on a rerun
        shutil.rmtree(target)
    fmt = "onnx" if exp.setup.modality in ("text", "image") else "safetensors"
    try:
        export_run(wdir, fmt, target)
    except Exception as err:
        if fmt == "safetensors":
            return {"error": _line(err)}
        note = f"onnx failed ({_line(err)}): safetensors instead"
        shutil.rmtree(target, ignore_errors=True)
        export_run(wdir, "safetensors", target)
        return {"dir": "model", "format": "safetensors", "note": note}
    return {"dir": "model", "format": fmt}


def write_winner(
    exp: Experiment, winner: dict[str, Any], wcfg: RunConfig, refit_done: bool = False
) -> str:
    """``winner.yaml``: the winner's config as a plain fit config, defaults left out."""
    plain = wcfg.model_copy(deep=True)
    plain.name, plain.baselines = "auto-winner", []
    plain.train.max_seconds = None
    body = yaml.safe_dump(plain.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
    path = exp.out / "winner.yaml"
    head = [
        f"# domainfit auto: the winner, step {winner['id']} ({winner['title']}).",
        f"# Train it again: domainfit fit {path}",
    ]
    weights = wcfg.model.weights if wcfg.model else None
    if weights and Path(weights).resolve().is_relative_to(exp.out.resolve()):
        head.append(f"# It continues from step {winner['base']}'s model: keep {exp.out} with it.")
    if refit_done:
        head.append(
            "# The exported model is this recipe on every labelled row: add "
            "--set split.train=1.0 --set split.val=0 --set split.test=0"
        )
    if winner["scores"].get("timed_out"):
        head.append(
            "# Its run was stopped by the budget's deadline; this config trains every epoch."
        )
    from domainfit.io_utils import write_text_atomic

    write_text_atomic(path, "\n".join(head) + "\n" + body)
    load_config(path)  # what is written must be a config fit accepts
    return path.name


def _line(err: Exception) -> str:
    return err.line() if isinstance(err, DomainfitError) else f"{type(err).__name__}: {err}"
