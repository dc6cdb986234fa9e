"""Lag, difference and rolling-window features for time-ordered tabular data.

Leakage rule: every value constructed for a row uses only rows of the same group whose time is
strictly earlier, never the row itself, a later row, or a row with the same timestamp. Rows are
ordered by time within each group (a stable sort); rows sharing a timestamp form one block, and
every row of a block sees the same past: the rows before the block, in sorted order (rows with
equal earlier timestamps keep their file order). For a row whose block starts at sorted position
s (within its group), with v the column's values in that order:

- ``<col>_lag<k>``         = v[s-k]
- ``<col>_diff<k>``        = v[s-1] - v[s-1-k]  (the latest change seen; the row's own value is
  not used, so a diff is as safe as a lag)
- ``<col>_roll<w>_<stat>`` = stat of v[s-w .. s-1]  (window shifted by one; mean, std with
  ddof=0, min or max over its non-missing values)

A value whose rows would reach before the start of the group is NaN (preprocessing imputes it
later); so is a window with no non-missing value. The frame comes back in its original row order
and index, with the new float columns appended.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from domainfit.config import TimeFeaturesConfig
from domainfit.errors import ConfigError, DataError

_STATS = {"mean": np.nanmean, "std": np.nanstd, "min": np.nanmin, "max": np.nanmax}


def add_time_features(
    frame: pd.DataFrame,
    times: np.ndarray,
    groups: np.ndarray | None,
    cfg: TimeFeaturesConfig,
) -> pd.DataFrame:
    """``frame`` with lag, diff and rolling columns appended (see the module docstring)."""
    if not (cfg.lags or cfg.diffs or cfg.rolling):
        raise ConfigError(
            "features.time_features builds nothing: lags, diffs and rolling are all empty",
            "set features.time_features.lags, diffs or rolling (e.g. lags: [1, 7])",
        )
    if len(times) != len(frame) or (groups is not None and len(groups) != len(frame)):
        raise ValueError("times and groups must have one entry per row of frame")
    columns = _source_columns(frame, cfg)
    order, group_start, block_start = _ordering(np.asarray(times), groups)
    values = _values(frame, columns)[order]  # rows in (group, time) order
    built: dict[str, np.ndarray] = {}
    for j, name in enumerate(columns):
        v = values[:, j]
        for k in cfg.lags:
            built[f"{name}_lag{k}"] = _shifted(v, block_start - k, group_start)
        for k in cfg.diffs:
            last = _shifted(v, block_start - 1, group_start)
            built[f"{name}_diff{k}"] = last - _shifted(v, block_start - 1 - k, group_start)
        for w in cfg.rolling:
            windows = _windows(v, w, block_start, group_start)
            for stat in cfg.rolling_stats:
                built[f"{name}_roll{w}_{stat}"] = _nan_stat(windows, stat)
    return _attach(frame, built, order)


def _source_columns(frame: pd.DataFrame, cfg: TimeFeaturesConfig) -> list[str]:
    lookup = {str(c): c for c in frame.columns}
    if cfg.columns is None:
        chosen = [
            str(c)
            for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c].dtype)
            and not pd.api.types.is_bool_dtype(frame[c].dtype)
        ]
        if not chosen:
            raise DataError(
                "features.time_features found no numeric column to build from "
                f"(columns: {', '.join(lookup)})",
                "set features.time_features.columns to numeric columns",
            )
        return chosen
    unknown = [c for c in cfg.columns if c not in lookup]
    if unknown:
        raise DataError(
            f"features.time_features.columns names unknown column(s) {unknown}",
            f"choose from: {', '.join(lookup)}",
        )
    text = [c for c in cfg.columns if not pd.api.types.is_numeric_dtype(frame[lookup[c]].dtype)]
    if text:
        raise DataError(
            f"features.time_features.columns {text} are not numeric, so they have no lags, "
            "differences or rolling statistics",
            "list numeric columns only in features.time_features.columns",
        )
    return list(cfg.columns)


def _values(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    lookup = {str(c): c for c in frame.columns}
    block = frame[[lookup[c] for c in columns]]
    return block.to_numpy(dtype=np.float64, na_value=np.nan)


def _ordering(times: np.ndarray, groups: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Sorted order by (group, time), stable; and for each sorted position the position where
    its group starts and where its block of equal timestamps starts."""
    try:
        time_codes, _ = pd.factorize(pd.Series(times), sort=True)
    except TypeError as exc:
        raise DataError(f"the time values cannot be ordered ({exc})", "use one type") from None
    if (time_codes < 0).any():
        rows = np.flatnonzero(time_codes < 0)
        raise DataError(
            f"{len(rows)} row(s) have no time value (first at position {rows[0]}), so their "
            "past is unknown",
            "fill in or remove the rows without a time",
        )
    if groups is None:
        group_codes = np.zeros(len(times), dtype=np.int64)
    else:  # a missing group is one group of its own
        group_codes, _ = pd.factorize(pd.Series(groups), use_na_sentinel=False)
    order = np.argsort(time_codes, kind="stable")
    order = order[np.argsort(group_codes[order], kind="stable")]
    g, t = group_codes[order], time_codes[order]
    positions = np.arange(len(order))
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    new_block = new_group.copy()
    new_block[1:] |= t[1:] != t[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, positions, 0))
    block_start = np.maximum.accumulate(np.where(new_block, positions, 0))
    return order, group_start, block_start


def _shifted(v: np.ndarray, source: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """v[source], NaN where source falls before the row's group."""
    ok = source >= group_start
    return np.where(ok, v[np.where(ok, source, 0)], np.nan)


def _windows(v: np.ndarray, w: int, block_start: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """(n, w) windows v[s-w .. s-1]; rows whose window leaves the group are all NaN."""
    padded = np.r_[np.full(w, np.nan), v]
    windows = sliding_window_view(padded, w)[block_start]  # row of padded i+w == v[i]
    windows[block_start - w < group_start] = np.nan
    return windows


def _nan_stat(windows: np.ndarray, stat: str) -> np.ndarray:
    with warnings.catch_warnings():  # all-NaN windows: NaN is the intended answer
        warnings.simplefilter("ignore", RuntimeWarning)
        return _STATS[stat](windows, axis=1)


def _attach(frame: pd.DataFrame, built: dict[str, np.ndarray], order: np.ndarray) -> pd.DataFrame:
    clash = [c for c in built if c in {str(k) for k in frame.columns}]
    if clash:
        raise DataError(
            f"the time features {clash} already exist as columns",
            "rename those columns, or drop them with data.source.drop_columns",
        )
    back = np.empty_like(order)
    back[order] = np.arange(len(order))  # sorted position of each original row
    new = pd.DataFrame({name: col[back] for name, col in built.items()}, index=frame.index)
    return pd.concat([frame, new], axis=1)
