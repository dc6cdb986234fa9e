"""Turn a pandas DataFrame plus column roles into a DomainDataset (shared by table formats)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.label_search import note_no_labels
from domainfit.data.sources.header import by_position
from domainfit.errors import DataError


def frame_to_dataset(
    df: pd.DataFrame, spec: DataSpec, origin: str, domain: str, ids: list[str] | None = None
) -> DomainDataset:
    """Pick text/feature/label/group/time columns; errors list the columns that do exist."""
    df = df.rename(columns=str)
    if df.shape[0] == 0:
        raise DataError(f"{origin} has a header but no rows", "add data or pick another file")
    columns = list(df.columns)
    spec = by_position(spec, columns)
    _check_columns(spec, columns, origin)
    keep = df.drop(columns=[c for c in spec.drop_columns if c in df.columns])

    label = spec.label or ("label" if "label" in keep.columns else None)
    text = spec.text
    if text is None and spec.features is None and "text" in keep.columns:
        text = "text"
    roles = {r for r in (label, text, spec.group, spec.time, spec.split) if r}
    for col in sorted(roles):
        if keep[col].isna().all():
            raise DataError(
                f"column '{col}' in {origin} is entirely empty",
                "check the file or choose another column",
            )

    labels = _column(keep, label)
    groups = _column(keep, spec.group)
    times = _times(keep, spec.time, origin)
    if text is not None:
        values = keep[text]
        inputs: object = [None if pd.isna(v) else str(v) for v in values]
        kind = "text"
    else:
        feature_cols = spec.features or [c for c in keep.columns if c not in roles]
        if not feature_cols:
            raise DataError(
                f"{origin} has no feature columns besides {sorted(roles)}",
                f"set data.source.features or data.source.text (columns: {', '.join(columns)})",
            )
        inputs = keep[feature_cols].reset_index(drop=True)
        kind = "tabular"
    meta = {"columns": columns, "label_column": label, "text_column": text}
    ds = DomainDataset(
        domain=domain,
        kind=kind,  # type: ignore[arg-type]
        inputs=inputs,
        labels=labels,
        groups=groups,
        times=times,
        parts=_parts(keep, spec.split, origin),
        ids=ids or [f"row {i + 1}" for i in range(len(keep))],
        origin=origin,
        meta=meta,
    )
    if label is None:  # unlabelled: fine for a target, and said clearly for a source
        note_no_labels(ds, ["label"], columns, "column")
    return ds


def _check_columns(spec: DataSpec, columns: list[str], origin: str) -> None:
    wanted = {
        "label": [spec.label],
        "text": [spec.text],
        "group": [spec.group],
        "time": [spec.time],
        "split": [spec.split],
        "features": spec.features or [],
        "drop_columns": spec.drop_columns,
    }
    for role, names in wanted.items():
        for name in names:
            if name is not None and name not in columns:
                raise DataError(
                    f"column '{name}' not found in {origin} (columns: {', '.join(columns)})",
                    f"set data.source.{role}",
                )


def _column(df: pd.DataFrame, name: str | None) -> np.ndarray | None:
    if name is None:
        return None
    col = df[name]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype=float, na_value=np.nan)
        present = values[~np.isnan(values)]
        if np.all(present == np.round(present)):  # integer labels read as float because of NaN
            if len(present) == len(values):
                return values.astype(np.int64)
            return np.array([None if np.isnan(v) else int(v) for v in values], dtype=object)
        return values
    return np.array([None if pd.isna(v) else v for v in col], dtype=object)


def _times(df: pd.DataFrame, name: str | None, origin: str) -> np.ndarray | None:
    if name is None:
        return None
    col = df[name]
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    parsed = pd.to_datetime(col, errors="coerce", utc=True)
    bad = parsed.isna() & col.notna()
    if bad.any():
        first = col[bad].iloc[0]
        raise DataError(
            f"time column '{name}' in {origin} has {int(bad.sum())} values that are not dates "
            f"or numbers (first: {first!r})",
            "fix them or choose another data.source.time",
        )
    return parsed.to_numpy()


_PART_NAMES = {
    "train": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "dev": "val",
    "test": "test",
}


def _parts(df: pd.DataFrame, name: str | None, origin: str) -> np.ndarray | None:
    if name is None:
        return None
    raw = df[name].astype(str).str.strip().str.lower()
    bad = sorted(set(raw) - set(_PART_NAMES))
    if bad:
        raise DataError(
            f"split column '{name}' in {origin} has values {bad[:5]}",
            "use train, val (or validation/dev) and test",
        )
    return raw.map(_PART_NAMES).to_numpy(dtype=object)
