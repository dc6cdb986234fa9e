"""svmlight / libsvm text files (``<label> <index>:<value> ...`` per line), plain or compressed.

Read with ``sklearn.datasets.load_svmlight_file``, which decompresses ``.gz`` and ``.bz2`` files by
their name. Features come out as a sparse CSR matrix. Indices follow scikit-learn's "auto" rule:
a file without index 0 is taken as one-based and shifted down by one. That rule is decided per
file, so several files of one data set (train and test) should say ``zero_based`` and
``n_features`` (``data.source.zero_based``, ``data.source.n_features``) to keep columns aligned.

Labels that are whole numbers become int64 class codes. ``data.source.group: qid`` turns the
``qid:`` field into groups. A malformed line is reported with its line number.
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_file

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.sources import SOURCES
from domainfit.data.sources.arrays import arrays_to_dataset
from domainfit.data.sources.variables import class_codes
from domainfit.errors import DataError

_LINE_FORMAT = "lines must read '<label> [qid:<n>] <index>:<value> ...' with increasing indices"
_COMPRESSED = (".gz", ".bz2")


@SOURCES.register("svmlight")
def load(spec: DataSpec, path: Path) -> DomainDataset:
    _check_spec(spec, path)
    zero_based = "auto" if spec.zero_based is None else spec.zero_based
    x, labels, qid = read_svmlight(
        path, n_features=spec.n_features, zero_based=zero_based, query_id=spec.group == "qid"
    )
    return arrays_to_dataset(
        x, class_codes(labels), domain=spec.domain or file_stem(path), origin=str(path), groups=qid
    )


def read_svmlight(
    path: Path,
    *,
    n_features: int | None = None,
    zero_based: bool | Literal["auto"] = "auto",
    query_id: bool = False,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray | None]:
    """Features (CSR), labels and, with ``query_id``, the qid of every line."""
    try:
        out = load_svmlight_file(
            str(path), n_features=n_features, zero_based=zero_based, query_id=query_id
        )
    except ValueError as err:
        raise _malformed(path, err) from None
    except (OSError, EOFError) as err:  # unreadable, or a damaged .gz/.bz2 stream
        raise DataError(f"{path} cannot be read ({err})", "check the file") from None
    x, labels = out[0], out[1]
    return sp.csr_matrix(x), np.asarray(labels), (np.asarray(out[2]) if query_id else None)


def file_stem(path: Path) -> str:
    """``books_test.svmlight.bz2`` -> ``books_test``."""
    name = path.name
    for suffix in _COMPRESSED:
        name = name.removesuffix(suffix)
    return Path(name).stem


def _check_spec(spec: DataSpec, path: Path) -> None:
    """svmlight has no named columns; a name set anyway would be silently ignored otherwise."""
    unusable = {"x": spec.x, "label": spec.label, "time": spec.time}
    if spec.group not in (None, "qid"):
        unusable["group"] = spec.group
    for field, value in unusable.items():
        if value is not None:
            raise DataError(
                f"data.source.{field}='{value}' cannot apply to svmlight file {path}: its lines "
                "hold only a label, an optional qid and index:value pairs",
                f"remove data.source.{field}"
                + (" (or set it to 'qid')" if field == "group" else ""),
            )


def _malformed(path: Path, err: ValueError) -> DataError:
    found = _first_bad_line(path)
    if found is None:  # well-formed lines, but e.g. more features than n_features
        return DataError(f"svmlight file {path} cannot be read: {err}", "check the file")
    number, problem, text = found
    return DataError(
        f"svmlight file {path}, line {number}: {problem} (line starts {text[:60]!r})",
        f"fix or remove that line; {_LINE_FORMAT}",
    )


def _first_bad_line(path: Path) -> tuple[int, str, str] | None:
    with _open(path) as lines:
        for number, raw in enumerate(lines, start=1):
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            problem = _line_problem(text.split("#", 1)[0].split())
            if problem is not None:
                return number, problem, text
    return None


def _line_problem(tokens: list[str]) -> str | None:
    """Why a line (comment removed, split on whitespace) is not svmlight, or None."""
    if not tokens:
        return None  # blank and comment-only lines are allowed
    if not _is_number(tokens[0]):
        return f"label '{tokens[0]}' is not a number"
    pairs = tokens[1:]
    if pairs and pairs[0].startswith("qid:"):
        if not pairs[0][4:].lstrip("-").isdigit():
            return f"'{pairs[0]}' is not qid:<integer>"
        pairs = pairs[1:]
    previous = -1
    for token in pairs:
        index, sep, value = token.partition(":")
        if not sep:
            return f"'{token}' is not index:value"
        if not index.isdigit():
            return f"index '{index}' is not a non-negative integer"
        if not _is_number(value):
            return f"value '{value}' of index {index} is not a number"
        if int(index) <= previous:
            return f"index {index} follows index {previous}; indices must increase"
        previous = int(index)
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    # The same case-sensitive suffix test scikit-learn makes, so both read the same bytes.
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix)
    with opener(path, "rb") if opener else path.open("rb") as handle:
        yield handle
