"""CSV/TSV/TXT, Parquet and JSONL sources: read a table, then pick columns with
``frame_to_dataset``."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.sources import SOURCES
from domainfit.data.sources.csv_checks import (
    check_duplicate_columns,
    header_cells,
    long_fields,
    parse_fix,
)
from domainfit.data.sources.header import first_row_is_header, warn_if_data_like
from domainfit.data.sources.table import frame_to_dataset
from domainfit.errors import DataError

_OTHER_DELIMITERS = (";", "\t", "|", ",")
# .txt: lines of text, a tab before any further columns (UCI's "sentence<TAB>label" files)
_DEFAULT_DELIMITERS = {"csv": ",", "tsv": "\t", "txt": "\t"}
TABLE_FORMATS = ("csv", "tsv", "txt", "parquet", "jsonl")


def _domain(spec: DataSpec, path: Path) -> str:
    return spec.domain or path.stem


def _check_nonempty(path: Path) -> None:
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a file", "point data.source.spec at a file")
    if path.stat().st_size == 0 or not path.read_bytes()[:4096].strip():
        raise DataError(f"{path} is empty", "check the file or point data.source.spec elsewhere")


def _check_utf8(path: Path, encoding: str) -> None:
    """Fail before pandas does, with the byte offset and the fix."""
    if encoding.lower().replace("-", "") not in ("utf8", "utf8sig"):
        return
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataError(
            f"{path} is not valid UTF-8 (byte 0x{data[err.start]:02x} on line {line})",
            "set data.source.encoding (for example latin-1 or cp1252)",
        ) from None


def _read_delimited(spec: DataSpec, path: Path, fmt: str) -> pd.DataFrame:
    _check_nonempty(path)
    _check_utf8(path, spec.encoding)
    delimiter = spec.delimiter or _DEFAULT_DELIMITERS[fmt]
    header = first_row_is_header(spec, fmt)
    # .txt is plain text: quotes are characters, and "NA" or "null" is a sentence, not a gap
    plain = {"quoting": csv.QUOTE_NONE, "keep_default_na": False, "na_values": [""]}
    options: dict[str, Any] = {"sep": delimiter, "encoding": spec.encoding, "engine": "python"}
    options |= plain if fmt == "txt" else {}
    try:
        with long_fields():  # one 20 MB text cell is valid CSV
            df = pd.read_csv(path, header=0 if header else None, **options)
            cells = header_cells(path, options) if header else []
    except (pd.errors.ParserError, csv.Error) as err:
        first = str(err).splitlines()[0]
        raise DataError(
            f"{path} cannot be parsed with delimiter {delimiter!r}: {first}",
            parse_fix(first, fmt, delimiter),
        ) from None
    except LookupError:
        raise DataError(
            f"unknown encoding {spec.encoding!r} for {path}", "set data.source.encoding"
        ) from None
    if header:  # a headerless file's first row is data: its commas say nothing of the delimiter
        _check_delimiter(df, path, delimiter)
        if spec.header == "auto":
            warn_if_data_like(df, str(path))
        check_duplicate_columns(cells, [str(c) for c in df.columns], spec, str(path))
    return df


def _check_delimiter(df: pd.DataFrame, path: Path, delimiter: str) -> None:
    """One column whose header holds another delimiter means the file was split wrongly."""
    if df.shape[1] != 1:
        return
    header = str(df.columns[0])
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in header:
            raise DataError(
                f"{path} read as a single column with delimiter {delimiter!r}, but its header "
                f"contains {other!r}",
                f"set data.source.delimiter={other!r}",
            )


def read_frame(spec: DataSpec, path: Path, fmt: str) -> tuple[pd.DataFrame, list[str] | None]:
    """The table a CSV/TSV/TXT/Parquet/JSONL file holds, with row ids where the rows are not
    simply the data rows in order (JSONL skips blank lines)."""
    if fmt in _DEFAULT_DELIMITERS:
        return _read_delimited(spec, path, fmt), None
    if fmt == "parquet":
        return _read_parquet(path), None
    if fmt == "jsonl":
        return _read_jsonl(spec, path)
    raise ValueError(f"not a table format: {fmt}")


def lines_of_text(spec: DataSpec, df: pd.DataFrame, fmt: str) -> DataSpec:
    """A .txt file of one column is one text per line, unlabelled, whatever its column name."""
    if fmt == "txt" and df.shape[1] == 1 and spec.text is None and spec.features is None:
        return spec.model_copy(update={"text": str(df.columns[0])})
    return spec


def _load(fmt: str) -> Callable[[DataSpec, Path], DomainDataset]:
    def load(spec: DataSpec, path: Path) -> DomainDataset:
        df, ids = read_frame(spec, path, fmt)
        return frame_to_dataset(
            df, lines_of_text(spec, df, fmt), str(path), _domain(spec, path), ids
        )

    return load


for _fmt in TABLE_FORMATS:
    SOURCES.register(_fmt)(_load(_fmt))


def _read_parquet(path: Path) -> pd.DataFrame:
    _check_nonempty(path)
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a bad file
        raise DataError(
            f"{path} is not a readable Parquet file ({type(err).__name__})",
            "check the file or set data.source.format",
        ) from None


def _read_jsonl(spec: DataSpec, path: Path) -> tuple[pd.DataFrame, list[str]]:
    _check_nonempty(path)
    _check_utf8(path, spec.encoding)
    rows, ids = [], []
    with path.open(encoding=spec.encoding) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(
                    f"{path} line {number} is not valid JSON ({err.msg})",
                    "fix that line; each line must hold one JSON object",
                ) from None
            if not isinstance(row, dict):
                raise DataError(
                    f"{path} line {number} holds a {type(row).__name__}, not a JSON object",
                    'write one object per line, e.g. {"text": "...", "label": 1}',
                )
            rows.append(row)
            ids.append(f"line {number}")
    return pd.DataFrame(rows), ids
