from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from domainfit.config import FeaturesConfig
from domainfit.data.features import FeatureSelector
from domainfit.errors import ConfigError, DataError

INFORMATIVE = [2, 7, 13]


def _planted(task: str, n: int = 300, d: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """3 informative columns of 20; the rest is noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    signal = 2.0 * x[:, 2] - 2.0 * x[:, 7] + 1.5 * x[:, 13]
    if task == "regression":
        return x, signal + 0.1 * rng.normal(size=n)
    labels = np.where(signal + 0.3 * rng.normal(size=n) > 0, "pos", "neg").astype(object)
    return x, labels


def _fit(select: str, task: str = "classification", **kw: object) -> FeatureSelector:
    x, y = _planted(task)
    return FeatureSelector(FeaturesConfig(select=select, **kw), task=task, seed=0).fit(x, y)


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize(
    ("select", "k"), [("mutual_info", 3), ("rfe", 3), ("l1", 3), ("tree", 3), ("tree", None)]
)
def test_methods_find_the_planted_features(task: str, select: str, k: int | None) -> None:
    assert _fit(select, task, k=k).selected == INFORMATIVE


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("select", ["rfecv", "l1"])
def test_methods_without_k_keep_the_planted_features(task: str, select: str) -> None:
    chosen = _fit(select, task).selected
    assert set(INFORMATIVE) <= set(chosen)
    assert len(chosen) < 20 or select == "rfecv"  # l1 drops noise on its own


def test_chi2_on_non_negative_features() -> None:
    x, y = _planted("classification")
    sel = FeatureSelector(FeaturesConfig(select="chi2", k=3)).fit(x - x.min(axis=0), y)
    assert sel.selected == INFORMATIVE
    with pytest.raises(DataError, match="non-negative.*scaler: minmax"):
        FeatureSelector(FeaturesConfig(select="chi2", k=3)).fit(x, y)
    with pytest.raises(ConfigError, match="classification"):
        FeatureSelector(FeaturesConfig(select="chi2", k=3), task="regression")


def test_k_larger_than_the_number_of_features() -> None:
    x, y = _planted("classification")
    with pytest.raises(ConfigError, match="k=25.*only 20 features"):
        FeatureSelector(FeaturesConfig(select="mutual_info", k=25)).fit(x, y)


def test_options_that_do_not_apply_are_errors() -> None:
    with pytest.raises(ConfigError, match="needs features.k"):
        FeatureSelector(FeaturesConfig(select="rfe"))
    with pytest.raises(ConfigError, match="k=3 has no effect"):
        FeatureSelector(FeaturesConfig(select="variance", k=3))
    with pytest.raises(ConfigError, match="threshold=0.5 has no effect"):
        FeatureSelector(FeaturesConfig(select="mutual_info", k=2, threshold=0.5))
    with pytest.raises(ConfigError, match="not a correlation"):
        FeatureSelector(FeaturesConfig(select="correlation", threshold=1.5))


def test_correlation_drops_later_copies() -> None:
    rng = np.random.default_rng(4)
    base = rng.normal(size=(100, 3))
    noisy_copy = base[:, 0] * -3.0 + 1e-3 * rng.normal(size=100)
    x = np.column_stack([base, noisy_copy, base[:, 1], np.full(100, 7.0)])
    names = ["a", "b", "c", "minus_a", "b_again", "const"]
    sel = FeatureSelector(FeaturesConfig(select="correlation")).fit(x, None, names)
    assert sel.selected_names == ["a", "b", "c", "const"]
    # The same on sparse input.
    sparse = FeatureSelector(FeaturesConfig(select="correlation")).fit(sp.csr_matrix(x), None)
    assert sparse.selected == sel.selected
    loose = FeatureSelector(FeaturesConfig(select="correlation", threshold=1.0)).fit(x, None)
    assert loose.selected == list(range(6))


def test_variance_threshold_and_nothing_selected() -> None:
    x = np.column_stack([np.zeros(10), np.arange(10.0), np.ones(10)])
    sel = FeatureSelector(FeaturesConfig(select="variance")).fit(x, None, ["z", "r", "o"])
    assert sel.selected_names == ["r"]
    with pytest.raises(DataError, match="kept no feature.*lower features.threshold"):
        FeatureSelector(FeaturesConfig(select="variance", threshold=100.0)).fit(x, None)


def test_missing_values_and_labels() -> None:
    x, y = _planted("classification")
    y[:5] = None  # unlabelled rows are ignored
    assert FeatureSelector(FeaturesConfig(select="rfe", k=3)).fit(x, y).selected == INFORMATIVE
    x[0, 4] = np.nan
    with pytest.raises(DataError, match="'f4'.*preprocess.impute"):
        FeatureSelector(FeaturesConfig(select="rfe", k=3)).fit(x, y)
    with pytest.raises(DataError, match="two classes"):
        FeatureSelector(FeaturesConfig(select="rfe", k=1)).fit(np.ones((4, 2)), np.zeros(4))


def test_json_round_trip_and_transform(tmp_path: Path) -> None:
    x, y = _planted("classification")
    names = [f"col{j}" for j in range(20)]
    sel = FeatureSelector(FeaturesConfig(select="tree", k=3), seed=0).fit(x, y, names)
    assert sel.selected_names == ["col2", "col7", "col13"]
    restored = FeatureSelector.from_dict(json.loads(json.dumps(sel.to_dict())))
    assert np.array_equal(restored.transform(x), x[:, INFORMATIVE])
    assert restored.to_dict() == sel.to_dict()
    sel.save(tmp_path / "features.json")
    loaded = FeatureSelector.load(tmp_path / "features.json")
    csr = sp.csr_matrix(x)
    assert (loaded.transform(csr) != csr[:, INFORMATIVE]).nnz == 0
    with pytest.raises(DataError, match="5 columns.*fitted on 20"):
        loaded.transform(x[:, :5])


def test_none_keeps_everything_and_seed_is_recorded() -> None:
    x = np.random.default_rng(5).normal(size=(30, 4))
    sel = FeatureSelector(FeaturesConfig(), seed=7).fit(x, None)
    assert sel.selected == [0, 1, 2, 3]
    assert sel.to_dict()["seed"] == 7
