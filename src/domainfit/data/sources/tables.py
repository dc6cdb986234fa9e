"""CSV/TSV, Parquet and JSONL sources: read a table, then pick columns with ``frame_to_dataset``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.sources import SOURCES
from domainfit.data.sources.table import frame_to_dataset
from domainfit.errors import DataError

_OTHER_DELIMITERS = (";", "\t", "|", ",")


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


def _read_delimited(spec: DataSpec, path: Path, default: str) -> DomainDataset:
    _check_nonempty(path)
    _check_utf8(path, spec.encoding)
    delimiter = spec.delimiter or default
    try:
        df = pd.read_csv(path, sep=delimiter, encoding=spec.encoding, engine="python")
    except (pd.errors.ParserError, csv.Error) as err:
        first = str(err).splitlines()[0]
        raise DataError(
            f"{path} cannot be parsed with delimiter {delimiter!r}: {first}",
            "set data.source.delimiter",
        ) from None
    except LookupError:
        raise DataError(
            f"unknown encoding {spec.encoding!r} for {path}", "set data.source.encoding"
        ) from None
    _check_delimiter(df, path, delimiter)
    return frame_to_dataset(df, spec, str(path), _domain(spec, path))


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


@SOURCES.register("csv")
def load_csv(spec: DataSpec, path: Path) -> DomainDataset:
    return _read_delimited(spec, path, ",")


@SOURCES.register("tsv")
def load_tsv(spec: DataSpec, path: Path) -> DomainDataset:
    return _read_delimited(spec, path, "\t")


@SOURCES.register("parquet")
def load_parquet(spec: DataSpec, path: Path) -> DomainDataset:
    _check_nonempty(path)
    try:
        df = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a bad file
        raise DataError(
            f"{path} is not a readable Parquet file ({type(err).__name__})",
            "check the file or set data.source.format",
        ) from None
    return frame_to_dataset(df, spec, str(path), _domain(spec, path))


@SOURCES.register("jsonl")
def load_jsonl(spec: DataSpec, path: Path) -> DomainDataset:
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
    return frame_to_dataset(pd.DataFrame(rows), spec, str(path), _domain(spec, path), ids)
