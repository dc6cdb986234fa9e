"""Delimited files that parse but mislead: very long fields, repeated column names, and the
fix a parser error really calls for.

Python's ``csv`` module (pandas' python engine) refuses any field over 128 KiB by default, a
limit of the reader and not of the file: a review or a document of 20 MB in one cell is valid
CSV. Repeated header names are renamed by pandas (``a``, ``a.1``) without a word, so a label or
text column named twice would silently be the first of them.
"""

from __future__ import annotations

import csv
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from domainfit.config import DataSpec
from domainfit.errors import DataError

# csv stores the limit in a C long: sys.maxsize overflows it where a long is 32 bits
_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


class DuplicateColumnWarning(UserWarning):
    """A delimited file names two columns alike; pandas renamed the later ones (``a.1``)."""


@contextmanager
def long_fields() -> Iterator[None]:
    """Lift ``csv``'s per-field size limit while a file is read (it is process-wide)."""
    old = csv.field_size_limit()
    csv.field_size_limit(_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def parse_fix(message: str, fmt: str, delimiter: str) -> str:
    """The change a parser error points to; the delimiter only when fields do not line up."""
    text = message.lower()
    if "inside string" in text or "unexpected end of data" in text:  # a quote never closed
        if fmt == "txt":
            return "check that line's quotes"
        return "close the quote on that line, or set data.source.format=txt (quotes as text)"
    if '"' in message and fmt != "txt":  # text with quotes in it, not quoted fields
        return "set data.source.format=txt (quotes as plain text)"
    if "expected" in text and "fields" in text:
        return (
            f"fix that line (a {delimiter!r} inside an unquoted field?) or set "
            "data.source.delimiter if the file uses another one"
        )
    return "set data.source.delimiter"


def header_cells(path: Path, options: dict[str, Any]) -> list[str]:
    """The first row as written (pandas' own header renames repeated names)."""
    kept = {**options, "keep_default_na": False, "na_values": []}  # a cell named "NA" is a name
    first = pd.read_csv(path, header=None, nrows=1, dtype=str, **kept)
    return [str(v) for v in first.iloc[0].tolist()] if len(first) else []


def check_duplicate_columns(
    cells: list[str], columns: list[str], spec: DataSpec, origin: str
) -> None:
    """Refuse a repeated name the spec reads (which one was meant is unknowable); warn about
    others, naming what pandas called them."""
    repeated = sorted(name for name, n in Counter(c for c in cells if c.strip()).items() if n > 1)
    if not repeated:
        return
    used = _used_names(spec)
    for name in repeated:
        if name in used:
            raise DataError(
                f"{origin} has {cells.count(name)} columns named '{name}', which the data spec "
                f"reads as {used[name]}",
                "rename the columns in the file's header so each name is used once",
            )
    renamed = {  # the header's positions are the frame's: pandas renames, never reorders
        name: [col for cell, col in zip(cells, columns, strict=False) if cell == name]
        for name in repeated
    }
    listed = "; ".join(f"'{n}' read as {', '.join(cols)}" for n, cols in renamed.items())
    warnings.warn(
        f"{origin}: repeated column names ({listed}); rename them in the file's header",
        DuplicateColumnWarning,
        stacklevel=3,
    )


def _used_names(spec: DataSpec) -> dict[str, str]:
    """Column name -> the role the spec gives it, including the default label and text."""
    used: dict[str, str] = {}
    for role in ("label", "text", "group", "time", "split"):
        name = getattr(spec, role)
        if name is not None:
            used[str(name)] = f"data.source.{role}"
    for name in spec.features or []:
        used.setdefault(str(name), "a data.source.features entry")
    for name in spec.drop_columns:
        used.setdefault(str(name), "a data.source.drop_columns entry")
    if spec.label is None:
        used.setdefault("label", "the label column (default name)")
    if spec.text is None and spec.features is None:
        used.setdefault("text", "the text column (default name)")
    return used
