"""Header rows of delimited text: whether the first row names the columns, and columns named by
position.

A headerless file read with a header loses its first sample and names its columns after it,
silently. Nothing can prove a row is a header, so ``header: auto`` reads the first row as names
and warns when those names look like data; ``header: none`` names the columns 0, 1, ...
"""

from __future__ import annotations

import re
import warnings

import pandas as pd

from domainfit.config import DataSpec


class HeaderWarning(UserWarning):
    """The first row of a delimited file was read as column names but looks like data."""


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def first_row_is_header(spec: DataSpec, fmt: str) -> bool:
    """A .txt file is lines of text: no header unless the spec says so."""
    if spec.header == "auto":
        return fmt != "txt"
    return spec.header == "first_row"


def data_like_names(df: pd.DataFrame) -> list[str]:
    """Column names that look like a row of data, each with the reason (empty: none do)."""
    names = [str(c) for c in df.columns]
    positional = _positional(names)
    found = []
    for column, name in zip(df.columns, names, strict=True):
        reason = _reason(name, df[column], positional)
        if reason:
            found.append(f"{name[:40]!r} ({reason})")
    return found


def warn_if_data_like(df: pd.DataFrame, origin: str) -> None:
    found = data_like_names(df)
    if found:
        warnings.warn(
            f"{origin}: its first row was read as column names but looks like data: "
            f"{', '.join(found[:3])}; if the file has no header, set header: none in its data "
            "spec (data.source.header, or --header none; columns are then 0, 1, ...), "
            "else header: first_row",
            HeaderWarning,
            stacklevel=2,
        )


def _positional(names: list[str]) -> bool:
    """Names 0..n-1 or 1..n: a frame written with its positions as header, not data."""
    if not all(n.isdigit() for n in names):
        return False
    numbers = [int(n) for n in names]
    return numbers in (list(range(len(names))), list(range(1, len(names) + 1)))


def _reason(name: str, values: pd.Series, positional: bool) -> str | None:
    if name.startswith("Unnamed: "):  # pandas' name for an empty header cell
        return None
    words = name.split()
    if len(words) >= 5 or (len(words) >= 2 and name.rstrip()[-1:] in ".!?"):
        return "reads like a sentence"
    if _NUMBER.match(name.strip()) and not positional:
        return "a number"
    present = values.dropna().astype(str).str.strip()
    if len(present) and name.strip() in set(present):
        return "also a value in its column"
    return None


def by_position(spec: DataSpec, columns: list[str]) -> DataSpec:
    """``text: 0``-style references to columns that do not exist by that name, resolved to the
    column at that position: the same spec then works with and without a header row."""
    if not columns:
        return spec

    def resolve(name: str | None) -> str | None:
        if name is None or name in columns or not name.isdigit() or int(name) >= len(columns):
            return name
        return columns[int(name)]

    update: dict[str, object] = {
        role: resolve(getattr(spec, role)) for role in ("text", "label", "group", "time", "split")
    }
    if spec.features is not None:
        update["features"] = [str(resolve(f)) for f in spec.features]
    update["drop_columns"] = [str(resolve(c)) for c in spec.drop_columns]
    changed = {k: v for k, v in update.items() if v != getattr(spec, k)}
    return spec.model_copy(update=changed) if changed else spec
