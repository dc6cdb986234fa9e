from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from pydantic import ValidationError
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from domainfit.config import PreprocessConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.preprocess import Preprocessor
from domainfit.errors import ConfigError, DataError


def _table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.normal(5.0, 2.0, n),
            "b": rng.integers(0, 100, n).astype(float),
            "flag": rng.random(n) > 0.5,
            "color": rng.choice(["red", "green", "blue"], n),
        }
    )
    frame.loc[[1, 7, 20], "a"] = np.nan
    frame.loc[[3, 11], "color"] = None
    return frame


def _tab(frame: pd.DataFrame) -> DomainDataset:
    return DomainDataset("d", "tabular", frame)


def test_scaler_uses_training_statistics_only() -> None:
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(0.0, 1.0, 200), rng.normal(10.0, 1.0, 100)]
    ds = _tab(pd.DataFrame({"x": x}))
    train, val = ds.subset(np.arange(200)), ds.subset(np.arange(200, 300))
    pre = Preprocessor(PreprocessConfig(scaler="standard")).fit(train)
    assert abs(pre.transform(train).mean()) < 1e-6
    # Val keeps its shift: centred with the training mean, not its own.
    expected = (x[200:] - x[:200].mean()) / x[:200].std()
    np.testing.assert_allclose(pre.transform(val)[:, 0], expected, rtol=1e-5)
    assert pre.transform(val).mean() > 8


@pytest.mark.parametrize(
    ("scaler", "sk_scaler"),
    [("standard", StandardScaler), ("minmax", MinMaxScaler), ("robust", RobustScaler)],
)
def test_numeric_part_matches_scikit_learn(scaler: str, sk_scaler: type) -> None:
    frame = _table()
    cfg = PreprocessConfig(scaler=scaler, impute="median", categorical="drop")
    ours = Preprocessor(cfg).fit(_tab(frame)).transform(_tab(frame))
    num = frame[["a", "b", "flag"]].astype(float).to_numpy()
    ref = make_pipeline(SimpleImputer(strategy="median"), sk_scaler()).fit_transform(num)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6)


def test_onehot_unseen_and_missing_categories() -> None:
    train = _tab(pd.DataFrame({"n": [1.0, 2.0, 3.0, 4.0], "c": ["x", "y", "x", None]}))
    cfg = PreprocessConfig(scaler="none", impute="most_frequent")
    pre = Preprocessor(cfg).fit(train)
    assert pre.feature_names_out() == ["n", "c=x", "c=y"]
    # The missing training value was imputed with the mode "x".
    np.testing.assert_array_equal(pre.transform(train)[3], [4.0, 1.0, 0.0])
    other = _tab(pd.DataFrame({"n": [np.nan, 5.0], "c": ["zebra", "y"]}))
    out = pre.transform(other)
    # Numeric most_frequent of 1, 2, 3, 4 is the smallest; "zebra" is unseen: all zero.
    np.testing.assert_array_equal(out, [[1.0, 0.0, 0.0], [5.0, 0.0, 1.0]])


def test_unimputed_missing_category_is_all_zero() -> None:
    train = _tab(pd.DataFrame({"c": ["x", None, "y"]}))
    pre = Preprocessor(PreprocessConfig(impute="none", scaler="none")).fit(train)
    assert pre.feature_names_out() == ["c=x", "c=y"]
    np.testing.assert_array_equal(pre.transform(train)[1], [0.0, 0.0])


@pytest.mark.parametrize("scaler", ["standard", "minmax", "robust", "none"])
@pytest.mark.parametrize("impute", ["median", "mean", "most_frequent", "none"])
def test_json_round_trip_is_bit_identical(scaler: str, impute: str) -> None:
    frame = _table()
    train, test = _tab(frame.iloc[:40]), _tab(frame.iloc[40:].reset_index(drop=True))
    test.inputs.loc[0, "color"] = "purple"  # unseen
    pre = Preprocessor(PreprocessConfig(scaler=scaler, impute=impute)).fit(train)
    restored = Preprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    for ds in (train, test):
        assert np.array_equal(pre.transform(ds), restored.transform(ds), equal_nan=True)
    assert restored.feature_names_out() == pre.feature_names_out()


def test_save_and_load(tmp_path: Path) -> None:
    frame = _table()
    pre = Preprocessor(PreprocessConfig(impute="constant", fill_value=-1.0)).fit(_tab(frame))
    path = tmp_path / "fold-0" / "preprocessor.json"
    pre.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["preprocessor.json"]  # no temp left
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    loaded = Preprocessor.load(path)
    assert np.array_equal(loaded.transform(_tab(frame)), pre.transform(_tab(frame)))
    assert "color=-1" in loaded.feature_names_out()  # constant fill for categories too


def test_bool_is_numeric_and_categorical_drop() -> None:
    pre = Preprocessor(PreprocessConfig(categorical="drop", scaler="none")).fit(_tab(_table()))
    assert pre.feature_names_out() == ["a", "b", "flag"]
    out = pre.transform(_tab(_table()))
    assert set(np.unique(out[:, 2])) <= {0.0, 1.0}


def test_constant_column_scales_without_nan() -> None:
    ds = _tab(pd.DataFrame({"k": [3.0] * 5, "v": np.arange(5.0)}))
    for scaler in ("standard", "minmax", "robust"):
        out = Preprocessor(PreprocessConfig(scaler=scaler)).fit(ds).transform(ds)
        assert np.isfinite(out).all()


def test_entirely_missing_column_is_an_error() -> None:
    frame = _table()
    frame["empty"] = np.nan
    with pytest.raises(DataError, match="'empty'.*drop_columns"):
        Preprocessor().fit(_tab(frame))


def test_constant_impute_needs_a_usable_fill_value() -> None:
    with pytest.raises(ValidationError, match="fill_value"):  # caught when the config loads
        PreprocessConfig(impute="constant")
    with pytest.raises(ConfigError, match="'unknown' is not a number"):
        cfg = PreprocessConfig(impute="constant", fill_value="unknown")
        Preprocessor(cfg).fit(_tab(_table()))
    cats = _tab(pd.DataFrame({"c": ["x", None]}))
    cfg = PreprocessConfig(impute="constant", fill_value="unknown")
    assert Preprocessor(cfg).fit(cats).feature_names_out() == ["c=unknown", "c=x"]


def test_text_and_image_are_rejected() -> None:
    ds = DomainDataset("reviews", "text", ["good", "bad"])
    with pytest.raises(DataError, match="tabular and feature data.*text"):
        Preprocessor().fit(ds)


def test_transform_checks_columns_and_types() -> None:
    pre = Preprocessor().fit(_tab(_table()))
    with pytest.raises(DataError, match="'b'.*missing"):
        pre.transform(_tab(_table().drop(columns=["b"])))
    bad = _table().astype({"a": object})
    bad.loc[0, "a"] = "n/a"
    with pytest.raises(DataError, match="column 'a' is numeric.*'n/a'"):
        pre.transform(_tab(bad))
    with pytest.raises(RuntimeError, match="not fitted"):
        Preprocessor().transform(_tab(_table()))
    with pytest.raises(DataError, match="not a domainfit preprocessor"):
        Preprocessor.from_dict({"format": "something else"})


def test_dense_features_impute_and_scale() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, (50, 4))
    x[0, 1] = np.nan
    ds = DomainDataset("d", "features", x, meta={"feature_names": ["p", "q", "r", "s"]})
    pre = Preprocessor(PreprocessConfig(impute="mean")).fit(ds)
    out = pre.transform(ds)
    assert pre.feature_names_out() == ["p", "q", "r", "s"]
    assert np.isfinite(out).all() and np.allclose(out.mean(axis=0), 0.0, atol=1e-6)
    with pytest.raises(DataError, match="3 columns.*fitted on 4"):
        pre.transform(DomainDataset("d", "features", x[:, :3]))


def test_sparse_features_are_never_centred() -> None:
    rng = np.random.default_rng(3)
    x = sp.random(40, 6, density=0.3, format="csr", random_state=3) * 5.0
    x.data -= rng.random(x.nnz)  # some negatives
    ds = DomainDataset("d", "features", sp.csr_matrix(x))
    std = Preprocessor(PreprocessConfig(scaler="standard")).fit(ds)
    out = std.transform(ds)
    assert sp.issparse(out) and out.dtype == np.float32 and out.nnz == x.nnz
    ref = StandardScaler(with_mean=False).fit_transform(x)
    np.testing.assert_allclose(out.toarray(), ref.toarray(), rtol=1e-6)
    mm = Preprocessor(PreprocessConfig(scaler="minmax")).fit(ds)
    assert mm.to_dict()["scaler"] == "maxabs"
    np.testing.assert_allclose(abs(mm.transform(ds)).max(axis=0).toarray(), 1.0, rtol=1e-6)
    again = Preprocessor.from_dict(json.loads(json.dumps(mm.to_dict()))).transform(ds)
    assert (again != mm.transform(ds)).nnz == 0
