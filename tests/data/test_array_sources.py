"""The .npz, svmlight and .mat sources and the IDX reader, on small files written here."""

from __future__ import annotations

import bz2
import gzip
import struct
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.idx import read_idx
from domainfit.data.load import load_domain
from domainfit.data.sources.matlab import is_v73, read_variables
from domainfit.data.sources.svmlight import read_svmlight
from domainfit.errors import DataError


def _load(path: Path, **kw: object) -> DomainDataset:
    return load_domain(DataSpec(spec=str(path), **kw))


# ---------------------------------------------------------------- npz


def test_npz_guesses_x_and_y(tmp_path: Path) -> None:
    x = np.arange(12, dtype=float).reshape(4, 3)
    np.savez(tmp_path / "d.npz", X=x, y=np.array([0, 1, 0, 1], dtype=np.int32))
    ds = _load(tmp_path / "d.npz")
    assert ds.kind == "features" and ds.domain == "d"
    np.testing.assert_array_equal(ds.inputs, x)
    assert ds.labels.dtype == np.int64 and list(ds.labels) == [0, 1, 0, 1]


def test_npz_named_arrays_groups_and_times(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(
        path, feats=np.ones((3, 2)), target=np.array(["a", "b", "a"]), site=[1, 1, 2], t=[5, 6, 7]
    )
    ds = _load(path, x="feats", label="target", group="site", time="t")
    assert list(ds.labels) == ["a", "b", "a"]
    assert list(ds.groups) == [1, 1, 2] and list(ds.times) == [5, 6, 7]


def test_npz_lone_matrix_is_the_features(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", emb=np.zeros((5, 4)), note=np.arange(5))
    ds = _load(tmp_path / "d.npz")
    assert ds.inputs.shape == (5, 4) and ds.labels is None


def test_npz_missing_named_array_lists_what_exists(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 2)), y=[0, 1])
    with pytest.raises(DataError, match=r"no variable 'target'.*X, y") as err:
        _load(tmp_path / "d.npz", label="target")
    assert str(tmp_path / "d.npz") in err.value.message
    assert "data.source.label" in err.value.fix


def test_npz_ambiguous_features(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 2)), features=np.zeros((2, 2)))
    with pytest.raises(DataError, match=r"candidates: X, features") as err:
        _load(tmp_path / "d.npz")
    assert "data.source.x" in err.value.fix


def test_npz_object_array_is_never_unpickled(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", X=np.zeros((2, 2)), y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DataError, match=r"'y'.*unpickling"):
        _load(tmp_path / "d.npz")


def test_npz_sparse_save_npz(tmp_path: Path) -> None:
    sp.save_npz(tmp_path / "s.npz", sp.random(6, 9, density=0.3, format="csr", random_state=0))
    ds = _load(tmp_path / "s.npz")
    assert sp.issparse(ds.inputs) and ds.inputs.shape == (6, 9) and ds.labels is None


def test_npz_not_an_archive(tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(DataError, match=r"bad\.npz is not a readable \.npz"):
        _load(tmp_path / "bad.npz")


# ---------------------------------------------------------------- svmlight

_SVM = "1 0:0.5 3:2\n-1 1:1.5 # comment\n\n1 2:3 3:1\n"


def test_svmlight_plain_and_bz2(tmp_path: Path) -> None:
    (tmp_path / "a.svmlight").write_text(_SVM)
    with bz2.open(tmp_path / "b.svmlight.bz2", "wt") as fh:
        fh.write(_SVM)
    plain, packed = _load(tmp_path / "a.svmlight"), _load(tmp_path / "b.svmlight.bz2")
    for ds in (plain, packed):
        assert sp.isspmatrix_csr(ds.inputs) and ds.inputs.shape == (3, 4)
        assert ds.labels.dtype == np.int64 and list(ds.labels) == [1, -1, 1]
    np.testing.assert_array_equal(plain.inputs.toarray(), packed.inputs.toarray())
    assert plain.inputs[0, 3] == 2.0 and packed.domain == "b"


def test_svmlight_one_based_auto(tmp_path: Path) -> None:
    (tmp_path / "a.libsvm").write_text("2 1:1 4:7\n1 2:1\n")
    ds = _load(tmp_path / "a.libsvm")
    assert ds.inputs.shape == (2, 4) and ds.inputs[0, 3] == 7.0  # index 4 -> column 3


def test_svmlight_explicit_indexing_aligns_files(tmp_path: Path) -> None:
    (tmp_path / "train.svmlight").write_text("1 0:1 2:1\n")
    (tmp_path / "test.svmlight").write_text("1 2:1\n")  # no index 0: "auto" would shift it
    shapes = set()
    for name in ("train", "test"):
        x, _, _ = read_svmlight(tmp_path / f"{name}.svmlight", n_features=5, zero_based=True)
        shapes.add(x.shape[1])
        assert x[0, 2] == 1.0
    assert shapes == {5}


def test_svmlight_spec_fixes_indexing_for_every_file(tmp_path: Path) -> None:
    (tmp_path / "train.svmlight").write_text("1 0:1 2:1\n")
    (tmp_path / "test.svmlight").write_text("1 2:1\n")
    guessed = _load(tmp_path / "test.svmlight")
    assert guessed.inputs[0, 1] == 1.0  # "auto" took the file as one-based: shifted
    for name in ("train", "test"):
        ds = _load(tmp_path / f"{name}.svmlight", zero_based=True, n_features=5)
        assert ds.inputs.shape == (1, 5) and ds.inputs[0, 2] == 1.0


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("x 1:2", "label 'x' is not a number"),
        ("1 1:2 1:3", "index 1 follows index 1"),
        ("1 1:abc", "value 'abc'"),
        ("1 7", "'7' is not index:value"),
    ],
)
def test_svmlight_malformed_line_is_named(tmp_path: Path, bad: str, problem: str) -> None:
    path = tmp_path / "bad.svmlight.bz2"
    with bz2.open(path, "wt") as fh:
        fh.write(f"1 1:1\n# header comment\n{bad}\n1 2:1\n")
    with pytest.raises(DataError, match=r"line 3: ") as err:
        _load(path)
    assert problem in err.value.message and str(path) in err.value.message


def test_svmlight_qid_groups_and_refused_names(tmp_path: Path) -> None:
    (tmp_path / "q.svmlight").write_text("1 qid:4 1:1\n0 qid:4 2:1\n1 qid:9 1:2\n")
    assert list(_load(tmp_path / "q.svmlight", group="qid").groups) == [4, 4, 9]
    with pytest.raises(DataError, match=r"data.source.label='y' cannot apply"):
        _load(tmp_path / "q.svmlight", label="y")


# ---------------------------------------------------------------- MATLAB


def _write_v73(path: Path, variables: dict[str, object]) -> None:
    """A file laid out as MATLAB's ``save -v7.3`` does: 512-byte header block, HDF5 datasets
    holding each m x n matrix as n x m, MATLAB_class attributes, sparse as data/ir/jc."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            if sp.issparse(value):
                csc = sp.csc_matrix(value)
                group = f.create_group(name)
                group.attrs["MATLAB_class"] = np.bytes_(b"double")
                group.attrs["MATLAB_sparse"] = np.uint64(csc.shape[0])
                group["data"], group["ir"], group["jc"] = csc.data, csc.indices, csc.indptr
            elif isinstance(value, list):  # char matrix, one string per row
                width = max(len(s) for s in value)
                codes = np.array([[ord(c) for c in s.ljust(width)] for s in value], np.uint16)
                f.create_dataset(name, data=codes.T).attrs["MATLAB_class"] = np.bytes_(b"char")
            else:
                array = np.asarray(value)
                cls = b"logical" if array.dtype == bool else b"double"
                data = array.astype(np.uint8 if array.dtype == bool else np.float64)
                f.create_dataset(name, data=data.T).attrs["MATLAB_class"] = np.bytes_(cls)
    with path.open("r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by a test".ljust(116))


_SQUARE = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])  # 3 samples x 3 features


def test_mat_v5_and_v73_read_the_same_square_matrix(tmp_path: Path) -> None:
    scipy.io.savemat(tmp_path / "v5.mat", {"X": _SQUARE, "Y": np.array([[1.0], [2], [3]])})
    _write_v73(tmp_path / "v73.mat", {"X": _SQUARE, "Y": np.array([[1.0], [2], [3]])})
    assert is_v73(tmp_path / "v73.mat") and not is_v73(tmp_path / "v5.mat")
    for name in ("v5", "v73"):
        ds = _load(tmp_path / f"{name}.mat")
        # Square: only undoing HDF5's reversed dims gets the rows right.
        np.testing.assert_array_equal(ds.inputs, _SQUARE)
        assert ds.labels.dtype == np.int64 and list(ds.labels) == [1, 2, 3]


def test_mat_features_by_samples_layout(tmp_path: Path) -> None:
    x_dn = np.arange(24, dtype=float).reshape(4, 6)  # JDA keeps d x n: 4 features, 6 samples
    y = np.arange(1.0, 7.0).reshape(6, 1)
    scipy.io.savemat(tmp_path / "v5.mat", {"Xs": x_dn, "Ys": y, "Xt": x_dn, "Yt": y})
    _write_v73(tmp_path / "v73.mat", {"Xs": x_dn, "Ys": y, "Xt": x_dn, "Yt": y})
    for name in ("v5", "v73"):
        ds = _load(tmp_path / f"{name}.mat", x="Xt")
        assert ds.inputs.shape == (6, 4)
        np.testing.assert_array_equal(ds.inputs[1], x_dn[:, 1])
        assert list(ds.labels) == [1, 2, 3, 4, 5, 6]  # Yt, the partner of Xt
        with pytest.raises(DataError, match=r"candidates: Xs, Xt"):
            _load(tmp_path / f"{name}.mat")


def test_mat_sparse_logical_and_char_in_v73(tmp_path: Path) -> None:
    x = sp.csr_matrix(np.array([[0, 1.5, 0], [2, 0, 0], [0, 0, 0], [0, 0, 3]]))
    _write_v73(
        tmp_path / "s.mat",
        {
            "X": x,
            "classes": ["cat", "dog", "cat", "bird"],
            "mask": np.array([[1], [0], [1], [1]]) > 0,
        },
    )
    ds = _load(tmp_path / "s.mat", label="classes", group="mask")
    assert sp.issparse(ds.inputs) and ds.inputs.shape == (4, 3)
    np.testing.assert_array_equal(ds.inputs.toarray(), x.toarray())
    assert list(ds.labels) == ["cat", "dog", "cat", "bird"]
    assert ds.groups.dtype == bool and list(ds.groups) == [True, False, True, True]


def test_mat_v5_cellstr_labels_and_sparse(tmp_path: Path) -> None:
    labels = np.empty((3, 1), dtype=object)
    labels[:, 0] = ["low", "high", "low"]
    x = sp.csc_matrix(np.eye(3))
    names = np.array(["ant", "bee", "cow"])  # saved as a 3 x 3 char matrix
    scipy.io.savemat(tmp_path / "c.mat", {"fea": x, "gnd": labels, "names": names})
    ds = _load(tmp_path / "c.mat")
    assert sp.issparse(ds.inputs) and list(ds.labels) == ["low", "high", "low"]
    assert list(_load(tmp_path / "c.mat", label="names").labels) == ["ant", "bee", "cow"]


@pytest.mark.parametrize("version", ["v5", "v73"])
def test_mat_missing_variable_lists_variables(tmp_path: Path, version: str) -> None:
    path = tmp_path / f"{version}.mat"
    arrays = {"fts": np.ones((3, 2)), "labels": np.ones((3, 1))}
    if version == "v5":
        scipy.io.savemat(path, arrays)
    else:
        _write_v73(path, arrays)
    with pytest.raises(DataError) as err:
        _load(path, x="Xs")
    assert str(path) in err.value.message
    assert "no variable 'Xs'" in err.value.message and "fts, labels" in err.value.message
    with pytest.raises(DataError, match=r"no variable 'gnd'; its variables are: fts, labels"):
        read_variables(path, ["fts", "gnd"])


def test_mat_struct_is_refused_and_junk_is_a_data_error(tmp_path: Path) -> None:
    scipy.io.savemat(tmp_path / "s.mat", {"X": {"a": 1}, "y": np.ones((1, 1))})
    with pytest.raises(DataError, match=r"variable 'X' .* is a struct"):
        _load(tmp_path / "s.mat", x="X")
    (tmp_path / "junk.mat").write_text("hello, not a MAT file at all\n")
    with pytest.raises(DataError, match=r"junk\.mat cannot be read as a MATLAB"):
        _load(tmp_path / "junk.mat")


# ---------------------------------------------------------------- IDX


def _idx(values: np.ndarray, code: int = 0x08) -> bytes:
    head = bytes([0, 0, code, values.ndim]) + struct.pack(f">{values.ndim}I", *values.shape)
    return head + values.astype(values.dtype.newbyteorder(">")).tobytes()


def test_idx_plain_gzip_and_wide_types(tmp_path: Path) -> None:
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(_idx(images))
    (tmp_path / "b.idx.gz").write_bytes(gzip.compress(_idx(images)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx", ndim=3), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "b.idx.gz"), images)
    ints = np.array([1, -70000, 3], dtype=np.int32)
    (tmp_path / "c.idx").write_bytes(_idx(ints, code=0x0C))
    out = read_idx(tmp_path / "c.idx")
    assert out.dtype == np.int32 and list(out) == [1, -70000, 3]  # big-endian decoded


def test_idx_errors(tmp_path: Path) -> None:
    good = _idx(np.zeros((2, 2), dtype=np.uint8))
    (tmp_path / "magic").write_bytes(b"\x01\x02" + good[2:])
    (tmp_path / "short").write_bytes(good[:-1])
    with pytest.raises(DataError, match=r"not an IDX file"):
        read_idx(tmp_path / "magic")
    with pytest.raises(DataError, match=r"3 data bytes; its header \(2, 2\) promises 4"):
        read_idx(tmp_path / "short")
    (tmp_path / "ok").write_bytes(good)
    with pytest.raises(DataError, match=r"2-d array; expected 3-d"):
        read_idx(tmp_path / "ok", ndim=3)
