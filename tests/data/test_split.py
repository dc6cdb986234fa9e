from __future__ import annotations

import numpy as np
import pytest

from domainfit.config import SplitConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.split import make_splits
from domainfit.errors import SplitError


def _ds(n: int = 100, *, labels=None, groups=None, times=None) -> DomainDataset:
    x = np.arange(n, dtype=float).reshape(-1, 1)
    return DomainDataset("d", "features", x, labels=labels, groups=groups, times=times)


def _check_partition(fold: dict[str, np.ndarray], n: int) -> None:
    allidx = np.concatenate([fold["train"], fold["val"], fold["test"]])
    assert sorted(allidx.tolist()) == list(range(n))


def test_random_default_ratios_and_seed() -> None:
    ds = _ds(100)
    a = make_splits(ds, SplitConfig(method="random"), None)[0]
    b = make_splits(ds, SplitConfig(method="random"), None)[0]
    c = make_splits(ds, SplitConfig(method="random", seed=1), None)[0]
    assert [len(a[p]) for p in ("train", "val", "test")] == [70, 15, 15]
    _check_partition(a, 100)
    assert all(np.array_equal(a[p], b[p]) for p in a)
    assert not np.array_equal(a["test"], c["test"])


def test_stratified_keeps_proportions() -> None:
    y = np.array([0] * 80 + [1] * 20)
    fold = make_splits(_ds(100, labels=y), SplitConfig(method="stratified"), "classification")[0]
    _check_partition(fold, 100)
    for part in ("val", "test"):
        assert y[fold[part]].sum() == 3  # 20% of 15


def test_auto_picks_stratified_for_classification() -> None:
    y = np.array([0] * 90 + [1] * 10)
    fold = make_splits(_ds(100, labels=y), SplitConfig(), "classification")[0]
    assert y[fold["test"]].sum() in (1, 2)
    assert y[fold["val"]].sum() in (1, 2)


def test_stratified_single_sample_class_is_named() -> None:
    y = np.array([0] * 50 + [1] * 49 + [2])
    with pytest.raises(SplitError, match="class '2' of d has 1 sample"):
        make_splits(_ds(100, labels=y), SplitConfig(method="stratified"), "classification")


def test_group_split_never_shares_groups() -> None:
    groups = np.repeat(np.arange(25), 4)
    fold = make_splits(_ds(100, groups=groups), SplitConfig(method="group"), None)[0]
    _check_partition(fold, 100)
    sets = [set(groups[fold[p]]) for p in ("train", "val", "test")]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert all(len(s) > 0 for s in sets)


def test_time_split_orders_and_keeps_ties_together() -> None:
    times = np.repeat(np.arange(20), 5)[::-1].copy()  # reversed file order, 5 rows per time
    fold = make_splits(_ds(100, times=times), SplitConfig(method="time"), None)[0]
    _check_partition(fold, 100)
    assert times[fold["train"]].max() < times[fold["val"]].min()
    assert times[fold["val"]].max() < times[fold["test"]].min()


def test_time_split_without_time_column() -> None:
    with pytest.raises(SplitError, match="set data.source.time"):
        make_splits(_ds(10), SplitConfig(method="time"), None)


def test_too_few_samples() -> None:
    with pytest.raises(SplitError, match="has 2 samples, too few"):
        make_splits(_ds(2), SplitConfig(method="random"), None)


@pytest.mark.parametrize("by", ["random", "stratified", "group", "time"])
def test_kfold_variants(by: str) -> None:
    n = 60
    ds = _ds(n, labels=np.arange(n) % 3, groups=np.arange(n) // 4, times=np.arange(n) // 2)
    folds = make_splits(
        ds, SplitConfig(method="kfold", k=4, kfold_by=by, val=0.0), "classification"
    )
    assert len(folds) == 4
    tests = np.concatenate([f["test"] for f in folds])
    if by != "time":  # expanding window: the first block is never a test fold
        assert sorted(tests.tolist()) == list(range(n))
    for f in folds:
        assert not set(f["train"]) & set(f["test"])
        if by == "group":
            assert not set(ds.groups[f["train"]]) & set(ds.groups[f["test"]])
        if by == "time":
            assert ds.times[f["train"]].max() < ds.times[f["test"]].min()


def test_kfold_with_inner_validation() -> None:
    folds = make_splits(_ds(50), SplitConfig(method="kfold", k=5, kfold_by="random"), None)
    for f in folds:
        _check_partition(f, 50)
        assert len(f["val"]) > 0 and len(f["test"]) == 10


def test_kfold_impossible_requests_name_numbers() -> None:
    with pytest.raises(SplitError, match="split.k=10 is larger than the 5 samples"):
        make_splits(_ds(5), SplitConfig(method="kfold", k=10, kfold_by="random"), None)
    y = np.array([0] * 20 + [1] * 2)
    with pytest.raises(SplitError, match="class '1' of d has 2 sample"):
        make_splits(_ds(22, labels=y), SplitConfig(method="kfold", k=3, kfold_by="stratified"), "c")
    with pytest.raises(SplitError, match="larger than the 3 groups"):
        make_splits(
            _ds(9, groups=np.arange(9) // 3),
            SplitConfig(method="kfold", k=4, kfold_by="group"),
            None,
        )


def test_predefined_split() -> None:
    parts = np.array(["train"] * 6 + ["val"] * 2 + ["test"] * 2, dtype=object)
    ds = DomainDataset("d", "features", np.zeros((10, 1)), parts=parts)
    fold = make_splits(ds, SplitConfig(), None)[0]
    assert fold["test"].tolist() == [8, 9] and len(fold["train"]) == 6
