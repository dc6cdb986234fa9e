"""The Python API. Orchestration only: each step lives in its own layer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from domainfit.config import RunConfig
from domainfit.config_io import ConfigLike, load_config
from domainfit.data.audit import AuditReport, audit_prepared
from domainfit.data.dataset import DomainDataset
from domainfit.data.load import load_domain
from domainfit.data.pipeline import clean_and_split, load_domains
from domainfit.data.prepare import PreparedRun, prepare_run
from domainfit.data.sources.memory import from_numpy, from_pandas
from domainfit.errors import ConfigError
from domainfit.fit import FitRun, run_fit

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
    the config saved in it; the result is the same as if it had never stopped."""
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "config.yaml").is_file():
            raise ConfigError(f"{run_dir} is not a run folder (no config.yaml)", "check --resume")
        cfg = load_config(run_dir / "config.yaml", overrides)
        return run_fit(cfg, None, run_dir, resume=True)
    if config is None:
        raise ConfigError("fit needs a config", "pass a YAML path or a dict")
    cfg, base_dir = _config(config, None, overrides)
    run_dir = Path(out) if out is not None else default_run_dir(cfg.name)
    if run_dir.exists():
        raise ConfigError(f"output folder {run_dir} already exists", "choose another --out")
    return run_fit(cfg, base_dir, run_dir, resume=False)


def predict(run_dir: str | Path, data: str, out: str | Path) -> pd.DataFrame:
    """Apply a finished run's model (and its saved preprocessing) to ``data``; write a CSV of
    predictions and class probabilities to ``out`` and return it."""
    from domainfit.predict import predict_file

    return predict_file(Path(run_dir), data, Path(out))


def inspect(config: ConfigLike, *, overrides: list[str] | None = None) -> list[dict[str, Any]]:
    """The training plan, one row per layer group (shallow to deep, then the head): ``group``,
    ``params``, ``trains`` (in any epoch), ``lr`` and ``epochs``: for each epoch of
    ``train.epochs`` the learning rate the group trains at, or None while it is frozen."""
    from domainfit.models.backbone import load_backbone
    from domainfit.models.groups import layer_groups
    from domainfit.models.heads import build_head, head_outputs
    from domainfit.strategies import strategy_class

    cfg, base_dir = _config(config, None, overrides)
    if cfg.model is None:
        raise ConfigError("inspect needs a model section", "set model.backbone, e.g. minilm")
    raw = load_domains(cfg, base_dir)
    n_classes = (
        len({str(v) for v in raw["source"].labels if v is not None})
        if raw["source"].labels is not None
        else 2
    )
    backbone = load_backbone(cfg.model)
    task = "binary" if n_classes == 2 else "multiclass"  # as fit chooses
    head = build_head(backbone.out_features, head_outputs(task, n_classes), cfg.model.head)
    strategy_cls = strategy_class(cfg)
    strategy_cls.prepare(cfg, backbone)  # as fit does: adapters are part of the plan
    groups = layer_groups(backbone.inner, backbone.family)
    strategy = strategy_cls(cfg, groups, head, backbone.inner)
    return strategy.plan()


def default_run_dir(name: str) -> Path:
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


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
