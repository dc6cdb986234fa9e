"""Cleaning actions applied to one domain before splitting, each logged with its count."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from domainfit.config import AuditConfig, CleanConfig
from domainfit.data.audit_checks import iqr_fences, missing_row_mask, numeric_matrix
from domainfit.data.dataset import DomainDataset
from domainfit.data.row_keys import exact_keys, near_keys


@dataclass(frozen=True)
class CleanAction:
    domain: str
    action: str
    rows: int
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def clean_domain(
    ds: DomainDataset, cfg: CleanConfig, audit: AuditConfig, *, labelled_role: bool
) -> tuple[DomainDataset, list[CleanAction]]:
    """Drop corrupt files, unlabelled rows (labelled role only), missing values, duplicates;
    impute and clip. Returns the cleaned dataset and what was done."""
    log: list[CleanAction] = []

    def drop(mask: np.ndarray, action: str, detail: str = "") -> None:
        nonlocal ds
        log.append(CleanAction(ds.domain, action, int(mask.sum()), detail))
        if mask.any():
            ds = ds.subset(np.flatnonzero(~mask))

    if cfg.drop_corrupt:
        bad = np.zeros(len(ds), dtype=bool)
        bad[[p.index for p in ds.problems]] = True
        drop(bad, "drop_corrupt", "unreadable files")
    if labelled_role and cfg.drop_missing_labels and ds.labels is not None:
        drop(ds.missing_labels(), "drop_missing_labels", "rows without a label")
    if cfg.missing == "drop":
        drop(missing_row_mask(ds), "drop_missing", "rows with a missing value")
    elif cfg.missing != "keep":
        ds, filled = _impute(ds, cfg)
        log.append(CleanAction(ds.domain, f"impute_{cfg.missing}", filled, "cells filled"))
    if cfg.drop_duplicates:
        drop(_repeats(exact_keys(ds)), "drop_duplicates", "kept the first of each group")
    if cfg.drop_near_duplicates:
        keys = near_keys(ds, audit.near_duplicate_decimals)
        drop(_repeats(keys), "drop_near_duplicates", "kept the first of each group")
    if cfg.clip_outliers:
        ds, clipped = _clip(ds, audit.outlier_iqr)
        log.append(CleanAction(ds.domain, "clip_outliers", clipped, "cells clipped to fences"))
    return ds, log


def _repeats(keys: list[str | None]) -> np.ndarray:
    seen: set[str] = set()
    mask = np.zeros(len(keys), dtype=bool)
    for i, k in enumerate(keys):
        if k is None:
            continue
        mask[i] = k in seen
        seen.add(k)
    return mask


def _impute(ds: DomainDataset, cfg: CleanConfig) -> tuple[DomainDataset, int]:
    """Whole-domain statistics (before splitting, as configured). For statistics fitted on the
    training split only, use ``preprocess.impute`` instead."""
    if ds.kind == "text":
        if cfg.missing != "constant":
            return ds, 0
        filled = [str(cfg.fill_value) if t is None or not t.strip() else t for t in ds.inputs]
        n = sum(a is not b for a, b in zip(filled, ds.inputs, strict=True))
        return _replace_inputs(ds, filled), n
    if ds.kind == "tabular":
        frame = ds.inputs.copy()
        n = int(frame.isna().sum().sum())
        for col in frame.columns:
            if frame[col].isna().any():
                frame[col] = frame[col].fillna(_fill(frame[col], cfg))
        return _replace_inputs(ds, frame), n
    if ds.kind == "features" and not sp.issparse(ds.inputs):
        arr = np.array(ds.inputs, dtype=float)
        frame = pd.DataFrame(arr)
        n = int(np.isnan(arr).sum())
        for col in frame.columns:
            if frame[col].isna().any():
                frame[col] = frame[col].fillna(_fill(frame[col], cfg))
        return _replace_inputs(ds, frame.to_numpy()), n
    return ds, 0


def _fill(col: pd.Series, cfg: CleanConfig) -> object:
    numeric = pd.api.types.is_numeric_dtype(col)
    if cfg.missing == "constant":
        return cfg.fill_value
    if cfg.missing in ("mean", "median") and numeric:
        return col.mean() if cfg.missing == "mean" else col.median()
    mode = col.mode(dropna=True)  # most_frequent, and the fallback for text columns
    return mode.iloc[0] if len(mode) else cfg.fill_value


def _clip(ds: DomainDataset, k: float) -> tuple[DomainDataset, int]:
    found = numeric_matrix(ds)
    if found is None:
        return ds, 0
    x, names = found
    with np.errstate(invalid="ignore"):
        lo, hi = iqr_fences(x, k)
        clipped = np.clip(x, lo, hi)
        n = int(((x < lo) | (x > hi)).sum())
    if ds.kind == "tabular":
        frame = ds.inputs.copy()
        frame[names] = clipped
        return _replace_inputs(ds, frame), n
    return _replace_inputs(ds, clipped), n


def _replace_inputs(ds: DomainDataset, inputs: object) -> DomainDataset:
    from dataclasses import replace

    return replace(ds, inputs=inputs)
