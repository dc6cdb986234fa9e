"""The negative-transfer guard: baselines trained on the same splits as the main run.

``scratch`` (same architecture, random weights: is pretraining worth anything here?),
``linear_probe`` (frozen pretrained features: does fine-tuning help or destroy them?) and
``source_only`` (the same run without adaptation: does adapting to the target help?). Each
trains into ``RUN/baselines/<name>/``; ``RUN/baselines.json`` holds the main run's gain over
each on every shared test split, with a paired bootstrap interval, and ``diagnose`` raises
``negative_transfer`` from it. With several processes (``torchrun``) the baselines train
data-parallel like the main run; rank 0 compares and writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainfit.config import RunConfig
from domainfit.io_utils import write_json_atomic
from domainfit.models.backbone import is_pretrained
from domainfit.progress import stage
from domainfit.train import distributed

# A probe trains a head only: the fine-tuning rate of a backbone (1e-5..1e-4) barely moves it.
PROBE_LR = 1e-3
PROBE_MIN_EPOCHS = 10


def baseline_config(cfg: RunConfig, name: str) -> tuple[RunConfig | None, str]:
    """The baseline's config, or None and why it does not apply to this run."""
    assert cfg.model is not None
    update: dict[str, Any] = {"baselines": [], "name": f"{cfg.name}-{name}"}
    no_adapt = cfg.adapt.model_copy(update={"method": "none"})
    no_adapt.self_training = no_adapt.self_training.model_copy(update={"enabled": False})
    pretrained = is_pretrained(cfg.model)
    if name == "scratch":
        if not pretrained:
            return None, "the model starts from random weights already"
        update["model"] = cfg.model.model_copy(update={"pretrained": False})
        update["strategy"] = cfg.strategy.model_copy(update={"name": "full"})
        update["adapt"] = no_adapt
    elif name == "linear_probe":
        if not pretrained:
            return None, "the backbone starts from random weights: no pretrained features to probe"
        if cfg.strategy.name == "linear_probe" and not cfg.adapt.enabled:
            return None, "the run is a linear probe already"
        update["strategy"] = cfg.strategy.model_copy(update={"name": "linear_probe"})
        update["train"] = cfg.train.model_copy(
            update={"lr": PROBE_LR, "epochs": max(PROBE_MIN_EPOCHS, cfg.train.epochs)}
        )
        update["adapt"] = no_adapt
    elif name == "source_only":
        if not cfg.adapt.enabled:
            return None, "the run does not adapt (adapt.method none, no self-training)"
        update["adapt"] = no_adapt
        # the same labelled target samples stay in training: only the adaptation is removed
    else:
        raise ValueError(f"unknown baseline {name!r}")
    update["track"] = cfg.track.model_copy(update={"enabled": False})
    return cfg.model_copy(update=update), ""


def run_baselines(cfg: RunConfig, base_dir: Path | None, run_dir: Path) -> dict[str, Any]:
    """Train each configured baseline, compare the main run with it, write baselines.json."""
    from domainfit.fit import run_fit

    trained: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    for name in cfg.baselines:
        bcfg, why = baseline_config(cfg, name)
        if bcfg is None:
            skipped[name] = why
            continue
        bdir = run_dir / "baselines" / name
        if not distributed.from_main(_clear_unfinished, bdir):
            with stage(f"baseline {name}"):  # the log's lines say whose they are
                run_fit(bcfg, base_dir, bdir, resume=False)  # every process trains it
        trained[name] = bdir
    return distributed.from_main(_compare, cfg.baselines, run_dir, trained, skipped)


def _clear_unfinished(bdir: Path) -> bool:
    """Whether the baseline finished earlier; one interrupted earlier is removed (it starts
    over)."""
    if (bdir / "metrics.json").is_file():
        return True
    if bdir.exists():
        import shutil

        shutil.rmtree(bdir)
    return False


def _compare(
    names: list[str], run_dir: Path, trained: dict[str, Path], skipped: dict[str, str]
) -> dict[str, Any]:
    """The main run against each trained baseline: baselines.json, and the report again."""
    from domainfit.fit import write_report
    from domainfit.report.compare import Paired, paired
    from domainfit.report.runfolder import RunFolder

    main = RunFolder(run_dir)
    out: dict[str, Any] = {"metric": main.headline, "baselines": {}}
    for name in names:
        if name in skipped:
            out["baselines"][name] = {"skipped": skipped[name]}
            continue
        bdir = trained[name]
        rows = []
        for item in paired(main, RunFolder(bdir), "run", name):
            if isinstance(item, Paired):
                c = item.comparison
                rows.append(
                    {
                        "split": item.split,
                        "n": item.n,
                        "metric": c.metric,
                        "run": c.a,
                        "baseline": c.b,
                        "gain": c.diff,
                        "ci": list(c.ci),
                        "p_bootstrap": c.p_bootstrap,
                        "p_mcnemar": c.p_mcnemar,
                        "higher_is_better": not item.negated,
                    }
                )
            else:
                rows.append({"note": item})
        out["baselines"][name] = {"dir": str(bdir.relative_to(run_dir)), "comparisons": rows}
    write_json_atomic(run_dir / "baselines.json", out)
    write_report(run_dir, baselines=list(trained.values()))
    return out
