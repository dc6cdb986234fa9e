"""Per-domain data checks. Each returns ``AuditItem``s with exact counts and example samples."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from domainfit.config import AuditConfig
from domainfit.data.dataset import DomainDataset


@dataclass
class AuditItem:
    """One finding of the audit: ``count`` is exact; ``examples`` name rows or files."""

    domain: str
    check: str
    count: int
    detail: str = ""
    examples: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def duplicate_groups(keys: list[str | None]) -> list[list[int]]:
    """Positions sharing a key, groups of two or more, in order of first appearance."""
    where: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        if k is not None:
            where[k].append(i)
    return [g for g in where.values() if len(g) > 1]


def duplicate_items(
    ds: DomainDataset, exact: list[str | None], near: list[str | None], cfg: AuditConfig
) -> list[AuditItem]:
    exact_groups = duplicate_groups(exact)
    n_exact = sum(len(g) - 1 for g in exact_groups)
    # Near duplicates beyond the exact ones: rows whose near key repeats but exact key does not.
    near_groups = duplicate_groups(near)
    n_near_total = sum(len(g) - 1 for g in near_groups)
    near_only = [g for g in near_groups if len({exact[i] for i in g}) > 1]
    items = [
        AuditItem(
            ds.domain,
            "exact_duplicates",
            n_exact,
            f"{len(exact_groups)} groups; rows repeating an earlier row",
            _group_examples(ds, exact_groups, cfg.max_examples),
        ),
        AuditItem(
            ds.domain,
            "near_duplicates",
            n_near_total - n_exact,
            f"{len(near_only)} groups beyond exact duplicates ({_near_rule(ds, cfg)})",
            _group_examples(ds, near_only, cfg.max_examples),
        ),
    ]
    if ds.labels is not None:
        missing = ds.missing_labels()
        conflicts = [
            g for g in exact_groups if len({str(ds.labels[i]) for i in g if not missing[i]}) > 1
        ]
        items.append(
            AuditItem(
                ds.domain,
                "conflicting_labels",
                len(conflicts),
                "groups of identical samples with different labels",
                _group_examples(ds, conflicts, cfg.max_examples),
            )
        )
    return items


def _near_rule(ds: DomainDataset, cfg: AuditConfig) -> str:
    return {
        "text": "same text after lower-casing and removing punctuation",
        "image": "same perceptual hash",
    }.get(ds.kind, f"same values rounded to {cfg.near_duplicate_decimals} decimals")


def _group_examples(ds: DomainDataset, groups: list[list[int]], limit: int) -> list[str]:
    return [" = ".join(ds.ids[i] for i in g[:4]) + (" ..." if len(g) > 4 else "") for g in groups][
        :limit
    ]


def missing_items(ds: DomainDataset, cfg: AuditConfig) -> list[AuditItem]:
    items: list[AuditItem] = []
    missing_labels = ds.missing_labels() if ds.labels is not None else None
    if missing_labels is not None:
        rows = np.flatnonzero(missing_labels)
        items.append(
            AuditItem(
                ds.domain,
                "missing_labels",
                len(rows),
                "samples without a label",
                [ds.ids[i] for i in rows[: cfg.max_examples]],
            )
        )
    per_column = missing_per_column(ds)
    rows_with = missing_row_mask(ds)
    detail = ", ".join(f"{c}: {n}" for c, n in sorted(per_column.items(), key=lambda kv: -kv[1]))
    items.append(
        AuditItem(
            ds.domain,
            "missing_values",
            int(sum(per_column.values())),
            f"cells; {int(rows_with.sum())} rows affected" + (f"; {detail}" if detail else ""),
            [ds.ids[i] for i in np.flatnonzero(rows_with)[: cfg.max_examples]],
            {"per_column": per_column, "rows": int(rows_with.sum())},
        )
    )
    return items


def missing_per_column(ds: DomainDataset) -> dict[str, int]:
    if ds.kind == "text":
        return {str(ds.meta.get("text_column") or "text"): int(missing_row_mask(ds).sum())}
    if ds.kind == "tabular":
        counts = ds.inputs.isna().sum()
        return {str(c): int(n) for c, n in counts.items() if n > 0}
    if ds.kind == "features" and not sp.issparse(ds.inputs):
        counts = np.isnan(np.asarray(ds.inputs, dtype=float)).sum(axis=0)
        names = ds.feature_names()
        return {names[j]: int(counts[j]) for j in np.flatnonzero(counts)}
    return {}


def missing_row_mask(ds: DomainDataset) -> np.ndarray:
    if ds.kind == "text":
        return np.array([t is None or not t.strip() for t in ds.inputs], dtype=bool)
    if ds.kind == "tabular":
        return ds.inputs.isna().any(axis=1).to_numpy()
    if ds.kind == "features" and not sp.issparse(ds.inputs):
        return np.isnan(np.asarray(ds.inputs, dtype=float)).any(axis=1)
    return np.zeros(len(ds), dtype=bool)


def constant_columns(ds: DomainDataset) -> list[str]:
    if ds.kind == "tabular":
        return [str(c) for c in ds.inputs.columns if ds.inputs[c].nunique(dropna=True) <= 1]
    if ds.kind != "features":
        return []
    x = ds.inputs
    if sp.issparse(x):
        csc = sp.csc_matrix(x)
        lo = np.asarray(csc.min(axis=0).todense()).ravel()
        hi = np.asarray(csc.max(axis=0).todense()).ravel()
    else:
        arr = np.asarray(x, dtype=float)
        lo, hi = np.nanmin(arr, axis=0), np.nanmax(arr, axis=0)
    names = ds.feature_names()
    return [names[j] for j in np.flatnonzero(lo == hi)]


def constant_item(ds: DomainDataset, cfg: AuditConfig) -> AuditItem:
    cols = constant_columns(ds)
    return AuditItem(
        ds.domain,
        "constant_columns",
        len(cols),
        "columns with a single value",
        cols[: cfg.max_examples],
        {"columns": cols},
    )


def corrupt_item(ds: DomainDataset, cfg: AuditConfig) -> AuditItem:
    return AuditItem(
        ds.domain,
        "corrupt_files",
        len(ds.problems),
        "files that cannot be read",
        [f"{p.item} ({p.reason})" for p in ds.problems[: cfg.max_examples]],
    )


def numeric_matrix(ds: DomainDataset) -> tuple[np.ndarray, list[str]] | None:
    """Dense numeric columns for outlier checks; None where they do not apply."""
    if ds.kind == "tabular":
        num = ds.inputs.select_dtypes(include="number")
        return num.to_numpy(dtype=float, na_value=np.nan), [str(c) for c in num.columns]
    if ds.kind == "features" and not sp.issparse(ds.inputs):
        return np.asarray(ds.inputs, dtype=float), ds.feature_names()
    return None


def iqr_fences(x: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    q1, q3 = np.nanpercentile(x, [25, 75], axis=0)
    iqr = q3 - q1
    return q1 - k * iqr, q3 + k * iqr


def outlier_item(ds: DomainDataset, cfg: AuditConfig) -> AuditItem | None:
    found = numeric_matrix(ds)
    if found is None or found[0].shape[1] == 0:
        return None
    x, names = found
    with np.errstate(invalid="ignore"):
        lo, hi = iqr_fences(x, cfg.outlier_iqr)
        spread = hi > lo  # columns with zero IQR would flag every non-modal value
        mask = ((x < lo) | (x > hi)) & spread
    per_col = mask.sum(axis=0)
    top = np.argsort(-per_col)[: cfg.max_examples]
    detail = ", ".join(f"{names[j]}: {int(per_col[j])}" for j in top if per_col[j] > 0)
    rows = np.flatnonzero(mask.any(axis=1))
    return AuditItem(
        ds.domain,
        "outliers",
        int(mask.sum()),
        f"cells beyond {cfg.outlier_iqr:g}×IQR of their column; {len(rows)} rows"
        + (f"; {detail}" if detail else "")
        + f"; {int((~spread).sum())} columns with zero IQR skipped",
        [ds.ids[i] for i in rows[: cfg.max_examples]],
        {"per_column": {names[j]: int(per_col[j]) for j in np.flatnonzero(per_col)}},
    )


def class_counts(ds: DomainDataset) -> Counter[str]:
    if ds.labels is None:
        return Counter()
    present = ~ds.missing_labels()
    return Counter(str(v) for v in ds.labels[present])


def class_items(ds: DomainDataset, cfg: AuditConfig) -> list[AuditItem]:
    counts = class_counts(ds)
    if not counts:
        return []
    rare = {c: n for c, n in sorted(counts.items()) if n < cfg.min_class_samples}
    ratio = max(counts.values()) / min(counts.values())
    balance = ", ".join(f"{c}: {n}" for c, n in sorted(counts.items()))
    return [
        AuditItem(
            ds.domain,
            "rare_classes",
            len(rare),
            f"classes with fewer than {cfg.min_class_samples} samples"
            + (": " + ", ".join(f"{c} ({n})" for c, n in rare.items()) if rare else ""),
            [],
            {"classes": rare},
        ),
        AuditItem(
            ds.domain,
            "class_balance",
            len(counts),
            f"classes; imbalance ratio (largest/smallest) {ratio:.2f}; {balance}"
            + ("; only one class" if len(counts) == 1 else ""),
            [],
            {"ratio": ratio, "counts": dict(counts)},
        ),
    ]
