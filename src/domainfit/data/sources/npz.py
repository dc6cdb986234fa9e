"""NumPy ``.npz`` archives (``numpy.savez``), read with ``allow_pickle=False`` always.

Features: ``data.source.x``, else whichever of ``X``, ``x``, ``features``, ``data`` exists
(two are ambiguous), else the archive's only matrix (2-d, not a vector). Labels:
``data.source.label``, else the partner of the feature name (``X``->``Y``, ``x``->``y``, ...)
or the one of ``y``, ``labels``, ``label``, ``Y`` that exists; none means unlabelled.
``data.source.group`` and ``data.source.time`` name further arrays. An archive written by
``scipy.sparse.save_npz`` is read as a sparse, unlabelled feature matrix.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.label_search import note_no_label_variable
from domainfit.data.sources import SOURCES
from domainfit.data.sources.arrays import arrays_to_dataset
from domainfit.data.sources.variables import choose
from domainfit.errors import DataError

X_NAMES = ("X", "x", "features", "data")
LABEL_NAMES = ("y", "labels", "label", "Y")
# Members written by scipy.sparse.save_npz; "data" alone would otherwise pass for features.
_SPARSE_KEYS = frozenset({"data", "indices", "indptr", "format", "shape"})
_FIX = "save the arrays with numpy.savez(path, X=features, y=labels)"


@SOURCES.register("npz")
def load(spec: DataSpec, path: Path) -> DomainDataset:
    origin = str(path)
    domain = spec.domain or path.stem
    with _open(path) as archive:
        if set(archive.files) >= _SPARSE_KEYS:
            return _sparse(spec, path, domain)
        shapes = _shapes(archive, path)
        chosen = choose(shapes, spec, origin, X_NAMES, LABEL_NAMES)
        x, labels, groups, times = (
            None if name is None else _array(archive, name, path)
            for name in (chosen.x, chosen.label, chosen.group, chosen.time)
        )
    ds = arrays_to_dataset(x, labels, domain=domain, origin=origin, groups=groups, times=times)
    if chosen.label is None:  # unlabelled: fine for a target, and said clearly for a source
        note_no_label_variable(ds, chosen.x, LABEL_NAMES, list(shapes))
    return ds


def _open(path: Path) -> Any:
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"{path} is not a readable .npz archive ({err})", _FIX) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataError(f"{path} holds a single .npy array, not an .npz archive", _FIX)
    return loaded


def _shapes(archive: np.lib.npyio.NpzFile, path: Path) -> dict[str, tuple[int, ...]]:
    """Shapes from the .npy headers, so that guessing never reads a large array."""
    shapes: dict[str, tuple[int, ...]] = {}
    for member in archive.zip.namelist():
        if not member.endswith(".npy"):
            continue  # not an array numpy wrote; never offered as a variable
        key = member.removesuffix(".npy")
        try:
            shapes[key] = _header_shape(archive, member, key, path)
        except (ValueError, EOFError) as err:  # an empty or cut-off member (an aborted save)
            raise _broken(path, key, err) from None
    return shapes


def _header_shape(
    archive: np.lib.npyio.NpzFile, member: str, key: str, path: Path
) -> tuple[int, ...]:
    with archive.zip.open(member) as fp:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            return tuple(np.lib.format.read_array_header_1_0(fp)[0])
        if version == (2, 0):
            return tuple(np.lib.format.read_array_header_2_0(fp)[0])
        return tuple(_array(archive, key, path).shape)  # rare header versions: read it


def _broken(path: Path, key: str, err: BaseException) -> DataError:
    first = (str(err).splitlines() or [type(err).__name__])[0]
    return DataError(
        f"array '{key}' in {path} is empty or cut off, not a .npy array ({first})",
        f"write the archive again (it was probably saved incompletely), or remove '{key}.npy' "
        "from it",
    )


def _array(archive: np.lib.npyio.NpzFile, key: str, path: Path) -> np.ndarray:
    try:
        return np.asarray(archive[key])
    except (ValueError, EOFError) as err:
        if "pickle" not in str(err):  # a damaged member, not a Python-object array
            raise _broken(path, key, err) from None
        raise DataError(  # object arrays need pickle, which is never allowed
            f"array '{key}' in {path} cannot be read without unpickling ({err})",
            "store numbers or fixed-width strings (not Python objects) in the archive",
        ) from None


def _sparse(spec: DataSpec, path: Path, domain: str) -> DomainDataset:
    for field in ("label", "group", "time"):
        if getattr(spec, field) is not None:
            raise DataError(
                f"{path} is a scipy.sparse.save_npz matrix, which holds no '{getattr(spec, field)}'"
                f" array (data.source.{field})",
                f"remove data.source.{field} or save the arrays with numpy.savez",
            )
    try:
        matrix = sp.load_npz(path)
    except (OSError, ValueError) as err:
        raise DataError(f"sparse matrix {path} cannot be read ({err})", _FIX) from None
    return arrays_to_dataset(matrix, None, domain=domain, origin=str(path))
