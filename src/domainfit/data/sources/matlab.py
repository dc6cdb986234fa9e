"""MATLAB ``.mat`` files: v4/v6/v7 through ``scipy.io.loadmat``, v7.3 (HDF5) through h5py.

Variables: ``data.source.x`` names the features; otherwise the one of ``fts``, ``fea``, ``X``,
``Xs``, ``Xt``, ``x``, ``features``, ``data`` that exists (several are ambiguous: a JDA-style file
with ``Xs`` and ``Xt`` needs ``x``), else the file's only matrix. ``data.source.label`` names the
labels; otherwise the partner of the feature variable (``Xs``->``Ys``, ``fea``->``gnd``, ...) or
the one of ``labels``, ``label``, ``gnd``, ``Y``, ``Ys``, ``Yt``, ``y`` that exists; none means
unlabelled. ``data.source.group`` / ``time`` name further variables.

Arrays are returned in MATLAB's own orientation whichever version wrote the file: HDF5 stores a
MATLAB m x n matrix as n x m (column-major), so v7.3 arrays are transposed back on reading. A
features-by-samples matrix (d x n, as JDA files keep it) is then turned around by
``arrays_to_dataset`` because the labels give n. Numbers are returned with their MATLAB class
(``double`` stays float64 even when saved compactly), whole-number labels become int64 class
codes, char and cellstr labels become strings, sparse matrices stay sparse. Structs, cells of
numbers, objects and complex numbers are refused; nothing is ever unpickled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.io
import scipy.sparse as sp

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.label_search import note_no_label_variable
from domainfit.data.sources import SOURCES
from domainfit.data.sources.arrays import arrays_to_dataset
from domainfit.data.sources.variables import choose, class_codes, listing
from domainfit.errors import DataError

X_NAMES = ("fts", "fea", "X", "Xs", "Xt", "x", "features", "data")
LABEL_NAMES = ("labels", "label", "gnd", "Y", "Ys", "Yt", "y")
_V73_HEADER = b"MATLAB 7.3"
_FIX = "save it from MATLAB with save(...) (any version, -v7.3 included) or scipy.io.savemat"

Value = np.ndarray | sp.csr_matrix


@SOURCES.register("mat")
def load(spec: DataSpec, path: Path) -> DomainDataset:
    shapes = list_variables(path)
    chosen = choose(shapes, spec, str(path), X_NAMES, LABEL_NAMES)
    names = [n for n in (chosen.x, chosen.label, chosen.group, chosen.time) if n is not None]
    values = read_variables(path, names)
    labels = None if chosen.label is None else class_codes(_dense(values[chosen.label]))
    ds = arrays_to_dataset(
        values[chosen.x],
        labels,
        domain=spec.domain or path.stem,
        origin=str(path),
        groups=None if chosen.group is None else _dense(values[chosen.group]),
        times=None if chosen.time is None else _dense(values[chosen.time]),
    )
    if chosen.label is None:  # unlabelled: fine for a target, and said clearly for a source
        note_no_label_variable(ds, chosen.x, LABEL_NAMES, list(shapes))
    return ds


def is_v73(path: Path) -> bool:
    with path.open("rb") as handle:
        header = handle.read(len(_V73_HEADER))
    return header == _V73_HEADER or h5py.is_hdf5(str(path))


def list_variables(path: Path) -> dict[str, tuple[int, ...]]:
    """Variable name -> shape (MATLAB orientation), without reading the data."""
    if is_v73(path):
        return _h5_shapes(path)
    try:
        found = scipy.io.whosmat(str(path))
    except NotImplementedError:  # scipy's answer to a v7.3 file the header test missed
        return _h5_shapes(path)
    except Exception as err:  # scipy raises many kinds (IndexError, struct.error, ...) on junk
        raise _unreadable(path, err) from None
    return {name: _char_rows(tuple(shape), cls) for name, shape, cls in found}


def _char_rows(shape: tuple[int, ...], cls: str) -> tuple[int, ...]:
    """A char matrix holds one string per row, so it counts as a vector of its rows."""
    return shape[:1] if cls == "char" else shape


def read_variables(path: Path, names: list[str]) -> dict[str, Value]:
    """The named variables as numeric (or string) arrays; every name must exist."""
    present = list(list_variables(path))
    for name in names:
        if name not in present:
            raise missing_variable(path, name, present)
    if is_v73(path):
        return _h5_read(path, names)
    try:
        raw = scipy.io.loadmat(str(path), variable_names=names, mat_dtype=True)
    except NotImplementedError:
        return _h5_read(path, names)
    except Exception as err:  # see list_variables
        raise _unreadable(path, err) from None
    return {name: _v5_value(raw[name], name, path) for name in names}


def missing_variable(path: Path, name: str, present: list[str]) -> DataError:
    return DataError(
        f"{path} has no variable '{name}'; its variables are: {listing(present)}",
        "set data.source.x / data.source.label to one of them",
    )


def _unreadable(path: Path, err: Exception) -> DataError:
    detail = str(err) or type(err).__name__
    return DataError(f"{path} cannot be read as a MATLAB .mat file ({detail})", _FIX)


def _refused(path: Path, name: str, what: str) -> DataError:
    return DataError(
        f"variable '{name}' in {path} is {what}, not a numeric matrix or label vector",
        "save the features as a numeric matrix and the labels as a numeric or char/cellstr vector",
    )


def _dense(value: Value) -> np.ndarray:
    return np.asarray(value.toarray()) if sp.issparse(value) else np.asarray(value)


def _v5_value(value: Any, name: str, path: Path) -> Value:
    if sp.issparse(value):
        return sp.csr_matrix(value)
    if not isinstance(value, np.ndarray):
        raise _refused(path, name, f"a MATLAB {type(value).__name__}")
    if value.dtype.names:
        raise _refused(path, name, "a struct")
    if value.dtype.kind == "c":
        raise _refused(path, name, "complex")
    if value.dtype.kind == "O":
        return _cellstr(value, name, path)
    return value


def _cellstr(value: np.ndarray, name: str, path: Path) -> np.ndarray:
    """A cell array of strings (class names per sample) as a string array; other cells refused."""
    items = value.reshape(-1, order="F")
    if not all(isinstance(i, np.ndarray) and i.dtype.kind == "U" and i.size <= 1 for i in items):
        raise _refused(path, name, "a cell array")
    return np.array([str(i.reshape(-1)[0]) if i.size else "" for i in items])


def _h5_open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise _unreadable(path, err) from None


def _h5_variables(handle: h5py.File) -> list[str]:
    # "#refs#" and "#subsystem#" hold MATLAB's internals (cell contents, objects).
    return [k for k in handle if not k.startswith("#")]


def _h5_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    with _h5_open(path) as handle:
        return {name: _h5_shape(handle[name]) for name in _h5_variables(handle)}


def _h5_shape(node: Any) -> tuple[int, ...]:
    if isinstance(node, h5py.Dataset):
        return _char_rows(tuple(reversed(node.shape)), _h5_class(node))
    if "MATLAB_sparse" in node.attrs:
        return (int(node.attrs["MATLAB_sparse"]), len(node["jc"]) - 1)
    return ()  # struct or object: listed, never guessed as data


def _h5_class(node: Any) -> str:
    cls = node.attrs.get("MATLAB_class", b"double")
    return cls.decode() if isinstance(cls, bytes) else str(cls)


def _h5_read(path: Path, names: list[str]) -> dict[str, Value]:
    with _h5_open(path) as handle:
        return {name: _h5_value(handle[name], name, path) for name in names}


def _h5_value(node: Any, name: str, path: Path) -> Value:
    if isinstance(node, h5py.Group):
        if "MATLAB_sparse" in node.attrs:
            return _h5_sparse(node)
        raise _refused(path, name, "a struct or object")
    cls = _h5_class(node)
    if cls == "cell" or node.dtype.kind == "O":
        raise _refused(path, name, "a cell array")
    if node.dtype.names:  # MATLAB writes complex numbers as a (real, imag) compound
        raise _refused(path, name, "complex")
    if node.attrs.get("MATLAB_empty", 0):  # the dataset then holds the dims, not data
        return np.empty((0, 0))
    array = np.transpose(node[()])  # undo HDF5's reversed (column-major) dims
    if cls == "logical":
        return array.astype(bool)
    if cls == "char":
        return _h5_chars(array)
    return array


def _h5_chars(codes: np.ndarray) -> np.ndarray:
    """A MATLAB char matrix (one string per row, UTF-16 code units) as a string vector."""
    rows = np.atleast_2d(codes)
    return np.array(["".join(map(chr, row)).rstrip() for row in rows.astype(np.uint32)])


def _h5_sparse(node: h5py.Group) -> sp.csr_matrix:
    """MATLAB sparse = CSC with ``ir`` row indices and ``jc`` column pointers."""
    jc = node["jc"][()]
    shape = (int(node.attrs["MATLAB_sparse"]), len(jc) - 1)
    if "data" not in node:  # an all-zero sparse matrix stores no values
        return sp.csr_matrix(shape)
    matrix = sp.csc_matrix((node["data"][()], node["ir"][()], jc), shape=shape)
    return matrix.tocsr()
