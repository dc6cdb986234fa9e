"""``prepare``: clean, split, and fit preprocessing and feature selection on the training split.

Writes one folder with everything a later run needs, all as JSON or YAML (never pickle):
``config.yaml``, ``audit.json``, ``splits.json`` (sample ids per part and fold),
``fold-<k>/preprocessor.json`` and ``fold-<k>/features.json`` for tabular and feature data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domainfit.config import RunConfig
from domainfit.config_io import dump_config
from domainfit.data.audit import AuditReport, audit_prepared
from domainfit.data.dataset import DomainDataset
from domainfit.data.feature_pipeline import FeaturePipeline
from domainfit.data.pipeline import PreparedData, clean_and_split
from domainfit.data.split import PARTS
from domainfit.data.time_features import add_time_features
from domainfit.data.validate import check_trainable
from domainfit.io_utils import staged_dir, write_json_atomic, write_text_atomic


@dataclass
class PreparedRun:
    dir: Path
    data: PreparedData
    audit: AuditReport
    fitted: list[dict[str, Any]]


def prepare_run(raw: dict[str, DomainDataset], cfg: RunConfig, out: Path) -> PreparedRun:
    """Nothing is written unless every step succeeds (the folder appears whole or not at all)."""
    if cfg.features.time_features is not None:
        raw = {role: _with_time_features(ds, cfg) for role, ds in raw.items()}
    data = clean_and_split(raw, cfg)
    check_trainable(data)
    report = audit_prepared(data, cfg)
    fitted = [_fit_fold(data, cfg, k) for k in range(len(data.folds["source"]))]
    with staged_dir(out) as tmp:
        write_text_atomic(tmp / "config.yaml", dump_config(cfg))
        write_json_atomic(tmp / "audit.json", report.to_dict())
        write_json_atomic(tmp / "splits.json", _splits_json(data))
        for k, parts in enumerate(fitted):
            for name, obj in parts.items():
                write_json_atomic(tmp / f"fold-{k}" / f"{name}.json", obj)
    return PreparedRun(out, data, report, fitted)


def _with_time_features(ds: DomainDataset, cfg: RunConfig) -> DomainDataset:
    from dataclasses import replace

    if ds.kind != "tabular" or ds.times is None:
        return ds
    frame = add_time_features(ds.inputs, ds.times, ds.groups, cfg.features.time_features)
    return replace(ds, inputs=frame)


def _fit_fold(data: PreparedData, cfg: RunConfig, k: int) -> dict[str, Any]:
    src = data.clean["source"]
    if src.kind not in ("tabular", "features"):
        return {}
    train = src.subset(data.folds["source"][k]["train"])
    pipe = FeaturePipeline.fit(train, cfg, data.task or "classification")
    out: dict[str, Any] = {"preprocessor": pipe.pre.to_dict()}
    if pipe.selector is not None:
        out["features"] = pipe.selector.to_dict()
    return out


def _splits_json(data: PreparedData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role, folds in data.folds.items():
        ds = data.clean[role]
        out[role] = {
            "domain": ds.domain,
            "folds": [{p: [ds.ids[i] for i in fold[p]] for p in PARTS} for fold in folds],
        }
    return out
