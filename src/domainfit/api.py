"""The Python API. Orchestration only: each step lives in its own layer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from domainfit.config import RunConfig
from domainfit.config_io import ConfigLike, load_config
from domainfit.data.audit import AuditReport, audit_prepared
from domainfit.data.dataset import DomainDataset
from domainfit.data.load import load_domain
from domainfit.data.pipeline import clean_and_split, load_domains
from domainfit.data.prepare import PreparedRun, prepare_run
from domainfit.data.sources.memory import from_numpy, from_pandas
from domainfit.diagnose.diagnose import Diagnosis
from domainfit.errors import ConfigError
from domainfit.fit import FitRun, Session, run_fit
from domainfit.io_utils import write_json_atomic
from domainfit.rank.ranking import Ranking
from domainfit.run_dirs import free_run_dir, stamped
from domainfit.train.lr_finder import LRFindResult

DataLike = DomainDataset | pd.DataFrame | str | tuple[Any, Any]


def audit(
    config: ConfigLike | None = None,
    *,
    source: DataLike | None = None,
    target: DataLike | None = None,
    overrides: list[str] | None = None,
    label: str | None = None,
) -> AuditReport:
    """Audit a run's data: ``audit("run.yaml")``, ``audit(source="amazon-reviews:kitchen")``,
    or ``audit(source=df, label="y")``. Data given here replaces the config's for its role."""
    cfg, base_dir = _config(config, source, overrides)
    given = {
        role: _as_dataset(d, label, role)
        for role, d in (("source", source), ("target", target))
        if d is not None and not isinstance(d, str)
    }
    if isinstance(target, str):
        given["target"] = load_domain(target, base_dir)
    raw = load_domains(cfg, base_dir, given)
    return audit_prepared(clean_and_split(raw, cfg), cfg)


def prepare(
    config: ConfigLike,
    out: str | Path | None = None,
    *,
    overrides: list[str] | None = None,
) -> PreparedRun:
    """Clean, split and fit preprocessing on the training split; write it all to ``out``
    (default ``runs/<name>-<time>``). Refuses data that cannot train (see ``validate``)."""
    cfg, base_dir = _config(config, None, overrides)
    out_dir = Path(out) if out is not None else default_run_dir(cfg.name)
    if out_dir.exists():
        raise ConfigError(f"output folder {out_dir} already exists", "choose another --out")
    raw = load_domains(cfg, base_dir)
    return prepare_run(raw, cfg, out_dir)


def fit(
    config: ConfigLike | None = None,
    *,
    overrides: list[str] | None = None,
    resume: str | Path | None = None,
    out: str | Path | None = None,
) -> FitRun:
    """Train one run. ``resume=RUN_DIR`` continues a stopped run from its last checkpoint with
    the config saved in it; the result is the same as if it had never stopped. What a resume
    may change (``overrides``, or ``config`` if given) is in ``domainfit.resume``."""
    if resume is not None:
        from domainfit.resume import resume_config

        run_dir = Path(resume)
        if not (run_dir / "config.yaml").is_file():
            raise ConfigError(f"{run_dir} is not a run folder (no config.yaml)", "check --resume")
        if out is not None:
            raise ConfigError(f"--out does not apply to --resume ({run_dir})", "drop --out")
        _check_resumable(run_dir)
        cfg = resume_config(run_dir, config, overrides)  # checks the checkpoint before any data
        return _with_baselines(cfg, None, run_fit(cfg, None, run_dir, resume=True))
    if config is None:
        raise ConfigError("fit needs a config", "pass a YAML path or a dict")
    cfg, base_dir = _config(config, None, overrides)
    run_dir = Path(out) if out is not None else default_run_dir(cfg.name)
    if out is not None and run_dir.exists():
        raise ConfigError(f"output folder {run_dir} already exists", "choose another --out")
    # a default name may be taken by a run started in the same second: run_fit moves it on
    run = run_fit(cfg, base_dir, run_dir, resume=False, unique=out is None)
    return _with_baselines(cfg, base_dir, run)


def _check_resumable(run_dir: Path) -> None:
    """A finished run prunes its checkpoints (train.keep_checkpoints): resuming it then would
    silently train again from step 0 inside the finished folder."""
    from domainfit.train.checkpoint import latest_checkpoint

    if (run_dir / "folds").is_dir():  # k-fold: finished folds are skipped, not resumed
        return
    if (run_dir / "run.json").is_file() and latest_checkpoint(run_dir / "checkpoints") is None:
        raise ConfigError(
            f"{run_dir} has finished and kept no checkpoint to resume from",
            "start a new run (train.keep_checkpoints: 1 keeps the last one for continuing)",
        )


def _with_baselines(cfg: RunConfig, base_dir: Path | None, run: FitRun) -> FitRun:
    if cfg.baselines:
        from domainfit.baselines import run_baselines

        run.baselines = run_baselines(cfg, base_dir, run.dir)
    return run


def align(
    config: ConfigLike,
    *,
    method: str,
    out: str | Path,
    classifier: str = "1nn",
    c: float = 1.0,
    protocol: str = "auto",
    params: dict[str, Any] | None = None,
    overrides: list[str] | None = None,
    preprocess: str | None = None,
) -> Any:
    """A classic feature-level adaptation (none, coral, sa, tca, jda, gfk, pca) and a
    classifier (1nn, logreg, svm) from the config's source to its target; see
    ``domainfit.adapt.classic_run``. ``protocol``: the feature preprocessing
    (``domainfit.adapt.classic_protocols``; ``auto`` is the published one for a named data
    set); ``preprocess`` is its former name (each, office, none), kept for old callers."""
    from domainfit.adapt.classic_protocols import resolve
    from domainfit.adapt.classic_run import align as run_align

    if preprocess is not None:
        if protocol != "auto":
            raise ConfigError("both protocol and preprocess are given", "pass only protocol")
        protocol = preprocess
    if protocol != "auto":
        resolve(protocol)  # an unknown name fails before the data are read
    cfg, base_dir = _config(config, None, overrides)
    return run_align(
        cfg,
        base_dir,
        Path(out),
        method=method,
        classifier=classifier,
        c=c,
        protocol=protocol,
        params=params,
    )


def evaluate(run_dir: str | Path, data: str | None = None) -> dict[str, dict[str, Any]]:
    """Metrics with 95% bootstrap intervals (and class tables) per split: the run's own val/test
    splits as fit evaluated them, or, with ``data``, the run's model on that labelled data
    (keyed by its file name). A k-fold run is evaluated per fold: see its cv.json."""
    from domainfit.inference import evaluate_file

    run_dir = Path(run_dir)
    if data is not None:
        return {Path(data).name or data: evaluate_file(run_dir, data)}
    path = run_dir / "evaluation.json"
    if not path.is_file():
        hint = "a k-fold run: evaluate one fold, e.g. " + str(run_dir / "folds" / "fold-0")
        raise ConfigError(
            f"{run_dir} has no evaluation.json",
            hint if (run_dir / "cv.json").is_file() else "point at a finished run folder",
        )
    splits: dict[str, dict[str, Any]] = json.loads(path.read_text())["splits"]
    return splits


def predict(
    run_dir: str | Path,
    data: str | Path | pd.DataFrame | list[str],
    out: str | Path | None = None,
    *,
    text: str | None = None,
    id: str | None = None,
    header: Literal["auto", "first_row", "none"] | None = None,
) -> pd.DataFrame:
    """Apply a finished run's model (and its saved preprocessing) to new data, labelled or not:
    a path or named set, a DataFrame (text column by the training name or ``text=``) or a list
    of strings. Returns id, text and the input's columns, prediction and p:<class>; label and
    loss too when every row has a known label. ``out``: also write it as CSV."""
    from domainfit.inference import predict_file

    path = Path(out) if out is not None else None
    return predict_file(Path(run_dir), data, path, text=text, id=id, header=header)


@dataclass
class LRFind:
    """A learning-rate range test: ``suggestion`` is a value for ``train.lr``; ``dir`` holds
    lr_find.png and lr_find.json; ``weights`` says what the sweep started from."""

    dir: Path
    result: LRFindResult
    weights: str

    @property
    def suggestion(self) -> float:
        return self.result.suggestion


def lr_find(
    config: ConfigLike | None = None,
    *,
    overrides: list[str] | None = None,
    run: str | Path | None = None,
    out: str | Path | None = None,
    start: float = 1e-7,
    end: float = 1.0,
    steps: int = 100,
) -> LRFind:
    """Learning-rate range test on exactly what ``fit`` would train (model, strategy, groups).

    ``run=RUN_DIR`` uses that run's saved config (plus ``overrides``) and starts from its
    weights: its final model when it finished, else its last checkpoint. Writes lr_find.png and
    lr_find.json to ``out`` (default RUN_DIR/lr_find, or runs/<name>-lr-find-<time>). The model
    and optimizer are left as they were; nothing else in a run folder changes."""
    from domainfit.fit import build_session
    from domainfit.train.lr_finder import SweepProgress, lr_range_test, save_plot
    from domainfit.train.trainer import Trainer

    run_dir = Path(run) if run is not None else None
    if run_dir is not None:
        if not (run_dir / "config.yaml").is_file():
            raise ConfigError(f"{run_dir} is not a run folder (no config.yaml)", "check --run")
        cfg, base_dir = load_config(run_dir / "config.yaml", overrides), None
    elif config is None:
        raise ConfigError("lr-find needs a config or a run", "pass a YAML path or --run RUN_DIR")
    else:
        cfg, base_dir = _config(config, None, overrides)
    session = build_session(cfg, base_dir)
    weights = _start_weights(session, run_dir) if run_dir is not None else "pretrained"
    if out is not None:
        out_dir = Path(out)
    else:
        out_dir = run_dir / "lr_find" if run_dir else default_run_dir(f"{cfg.name}-lr-find")
    trainer = Trainer(  # the optimizer and device fit would use; its own loop is not run
        session.trained,
        session.loss(),
        session.strategy.param_groups(),
        cfg.train,
        out_dir,
        seed=cfg.seed,
        hooks=session.strategy,
        penalty=session.strategy.penalty,
    )
    with SweepProgress(steps) as bar:
        result = lr_range_test(
            trainer.model,
            trainer.loss_fn,
            trainer.optimizer,
            session.sets["source.train"],
            cfg.train,
            accelerator=trainer.accelerator,
            start=start,
            end=end,
            steps=steps,
            seed=cfg.seed,
            hooks=session.strategy,
            penalty=session.strategy.penalty,
            on_step=bar.update,
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out_dir / "lr_find.json", {**result.to_dict(), "weights": weights})
    save_plot(result, out_dir / "lr_find.png")
    return LRFind(out_dir, result, weights)


def _start_weights(session: Session, run_dir: Path) -> str:
    """Load a run's weights into the session: the final model of a finished run (adapters of
    lora runs were merged into it: they start afresh on top), else its last checkpoint."""
    from safetensors.torch import load_file

    from domainfit.strategies.lora import load_merged
    from domainfit.train.checkpoint import latest_checkpoint

    final = run_dir / "model" / "model.safetensors"
    if final.is_file() and (run_dir / "model" / "model.json").is_file():
        state = load_file(str(final))
        if session.trained is not session.model and _encoder_changed(session, state):
            raise ConfigError(
                f"strategy {session.cfg.strategy.name} trains on features of the pretrained "
                f"backbone, but {run_dir} fine-tuned it",
                "run lr-find with the run's own strategy, or on the config without --run",
            )
        load_merged(session.model, state)
        return f"final model of {run_dir}"
    last = latest_checkpoint(run_dir / "checkpoints")
    if last is None:
        raise ConfigError(
            f"{run_dir} has neither a final model nor a checkpoint",
            "point --run at a run that has trained at least one step, or pass the config",
        )
    session.trained.load_state_dict(load_file(str(last / "model.safetensors")))
    return f"checkpoint {last.name} of {run_dir}"


def _encoder_changed(session: Session, state: dict[str, Any]) -> bool:
    own = session.model.state_dict()
    return any(
        not torch.equal(own[k], v)
        for k, v in state.items()
        if k.startswith("encoder.") and k in own
    )


def inspect(config: ConfigLike, *, overrides: list[str] | None = None) -> list[dict[str, Any]]:
    """The training plan, one row per layer group (shallow to deep, then the head): ``group``,
    ``params``, ``trains`` (in any epoch), ``lr`` and ``epochs``: for each epoch of
    ``train.epochs`` the learning rate the group trains at, or None while it is frozen."""
    return inspect_with_start(config, overrides=overrides)[0]


def inspect_with_start(
    config: ConfigLike, *, overrides: list[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``inspect``'s plan and ``model_start``'s facts from one build of the model."""
    from domainfit.data.pipeline import clean_and_split
    from domainfit.fit import build_model
    from domainfit.models.start_weights import start_facts

    cfg, base_dir = _config(config, None, overrides)
    if cfg.model is None:
        raise ConfigError("inspect needs a model section", "set model.backbone, e.g. minilm")
    prepared = clean_and_split(load_domains(cfg, base_dir), cfg)
    parts = build_model(cfg, prepared)  # the very model and strategy fit builds
    return parts.strategy.plan(), start_facts(cfg.model, parts.backbone)


def model_start(config: ConfigLike, *, overrides: list[str] | None = None) -> dict[str, Any]:
    """What the config's backbone starts from, without reading data: ``backbone``,
    ``weights_source`` (None: random), ``random_start`` (random where pretrained weights were
    meant) and ``image_inputs`` (size, crop, normalisation and where they come from)."""
    from domainfit.models.backbone import load_backbone
    from domainfit.models.specs import parse_spec
    from domainfit.models.start_weights import start_facts

    cfg, _ = _config(config, None, overrides)
    if cfg.model is None:
        raise ConfigError("inspect needs a model section", "set model.backbone, e.g. minilm")
    if parse_spec(cfg.model.backbone).kind == "mlp":  # built to the data's width: not here
        model = cfg.model
        source = f"file {model.weights}" if model.weights and model.pretrained else None
        return {"backbone": model.backbone, "weights_source": source, "random_start": False}
    return start_facts(cfg.model, load_backbone(cfg.model))


def rank(
    config: ConfigLike,
    *,
    candidates: list[str] | None = None,
    overrides: list[str] | None = None,
) -> Ranking:
    """Score candidate pretrained models on the config's labelled training data, with their
    cost here; ``candidates`` replaces ``rank.candidates``."""
    from domainfit.rank.ranking import rank_candidates

    cfg, base_dir = _config(config, None, overrides)
    if candidates:
        cfg.rank.candidates = list(candidates)
    return rank_candidates(cfg, base_dir)


def diagnose(
    config: ConfigLike | None = None,
    *,
    run: str | Path | None = None,
    overrides: list[str] | None = None,
    seed: int = 0,
    check_resume: bool = False,
) -> Diagnosis:
    """Every check that applies, findings ranked (worst first). With ``run``, the training
    checks read that run folder (``check_resume`` also replays its last checkpoint interval);
    without ``config``, the run's own config.yaml is used. The
    run folder also gets the result as ``diagnosis.json`` (its report shows it)."""
    from domainfit.diagnose.diagnose import run_diagnosis

    run_dir = Path(run) if run is not None else None
    if run_dir is not None and not (run_dir / "config.yaml").is_file():
        raise ConfigError(
            f"{run_dir} is not a run folder (no config.yaml)", "pass a folder that fit wrote"
        )
    if config is None:
        if run_dir is None:
            raise ConfigError("nothing to diagnose", "pass a config, a run folder, or both")
        config = run_dir / "config.yaml"
    cfg, base_dir = _config(config, None, overrides)
    result = run_diagnosis(cfg, base_dir, run_dir=run_dir, seed=seed, check_resume=check_resume)
    if run_dir is not None:
        from domainfit.fit import write_report

        result.write(run_dir / "diagnosis.json")
        baselines = sorted(p for p in (run_dir / "baselines").glob("*") if p.is_dir())
        write_report(run_dir, baselines=baselines)  # the report gains its diagnosis section
    return result


def auto(source: str | None = None, **kwargs: Any) -> Any:
    """The whole adaptation experiment under a time budget: ``auto("reviews.csv",
    target="books.csv", budget="30m", out="runs/auto")``; see ``domainfit.auto.main``."""
    from domainfit.auto.main import run_auto

    return run_auto(source, **kwargs)


def sweep(config: ConfigLike, **kwargs: Any) -> Any:
    """Strategy and hyperparameter search; see ``domainfit.search.api.sweep``."""
    from domainfit.search.api import sweep as run

    return run(config, **kwargs)


def default_run_dir(name: str) -> Path:
    """``runs/<name>-<time>``, or ``-2``, ``-3``... after it when taken (not yet reserved:
    ``fit`` reserves it atomically when the run starts)."""
    return free_run_dir(stamped(name))


def _config(
    config: ConfigLike | None, source: DataLike | None, overrides: list[str] | None
) -> tuple[RunConfig, Path | None]:
    base_dir = None
    if config is None:
        if source is None:
            raise ConfigError("nothing to audit", "pass a config or source=...")
        spec = source if isinstance(source, str) else "<memory>"
        config = {"data": {"source": spec}}
    elif isinstance(config, str | Path):
        base_dir = Path(config).parent
    cfg = load_config(config, overrides)
    return cfg, base_dir


def _as_dataset(data: DataLike, label: str | None, role: str) -> DomainDataset:
    if isinstance(data, DomainDataset):
        return data
    if isinstance(data, pd.DataFrame):
        return from_pandas(data, label=label, domain=role)
    if isinstance(data, tuple) and len(data) == 2:
        return from_numpy(
            np.asarray(data[0]) if not hasattr(data[0], "tocsr") else data[0], data[1], domain=role
        )
    raise ConfigError(
        f"{role} data of type {type(data).__name__} is not supported",
        "pass a path, a named set, a DataFrame, an (X, y) tuple or a DomainDataset",
    )
