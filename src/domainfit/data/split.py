"""Leak-free, seeded splits: random, stratified, group, time-ordered, and k-fold over each.

A split is a list of folds; a fold maps "train"/"val"/"test" to sample positions. Holdout
methods give one fold, ``kfold`` gives k. Group and time splits cannot leak by construction:
a group never spans two parts, and every training time precedes every validation and test time.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from domainfit.config import SplitConfig
from domainfit.data.dataset import DomainDataset
from domainfit.errors import SplitError

Fold = dict[str, np.ndarray]
PARTS = ("train", "val", "test")


def resolve_method(method: str, ds: DomainDataset, task: str | None) -> str:
    """``auto``: the data's own split column if any, else group if groups exist, else time if
    times exist, else stratified for fully labelled classification data, else random."""
    if method != "auto":
        return method
    if ds.parts is not None:
        return "predefined"
    if ds.groups is not None:
        return "group"
    if ds.times is not None:
        return "time"
    if task == "classification" and ds.labels is not None and not ds.missing_labels().any():
        return "stratified"
    return "random"


def make_splits(ds: DomainDataset, cfg: SplitConfig, task: str | None) -> list[Fold]:
    if len(ds) == 0:
        raise SplitError(f"{ds.domain} has no samples left to split", "check the cleaning log")
    if cfg.method == "kfold":
        by = resolve_method(cfg.kfold_by, ds, task)
        return _kfold(ds, cfg, by, task)
    method = resolve_method(cfg.method, ds, task)
    if method == "predefined":
        return [_predefined(ds)]
    sizes = part_sizes(len(ds), cfg, ds.domain)
    try:
        return [_holdout(ds, method, sizes, cfg.seed)]
    except SplitError:
        if cfg.method != "auto" or method != "stratified":
            raise
        # auto means the best split that is possible: tiny classes cannot be stratified
        return [_holdout(ds, "random", sizes, cfg.seed)]


def part_sizes(n: int, cfg: SplitConfig, domain: str) -> dict[str, int]:
    """Rounded sizes; each non-zero ratio gets at least one sample."""
    n_val = max(1, round(cfg.val * n)) if cfg.val > 0 else 0
    n_test = max(1, round(cfg.test * n)) if cfg.test > 0 else 0
    n_train = n - n_val - n_test
    if n_train < 1:
        raise SplitError(
            f"{domain} has {n} samples, too few for train/val/test = "
            f"{cfg.train}/{cfg.val}/{cfg.test}",
            "add data or set split.val=0 / split.test=0",
        )
    return {"train": n_train, "val": n_val, "test": n_test}


def _holdout(ds: DomainDataset, method: str, sizes: dict[str, int], seed: int) -> Fold:
    n = len(ds)
    if method == "random":
        order = np.random.default_rng(seed).permutation(n)
        return _cut(order, sizes)
    if method == "stratified":
        return _stratified(ds, sizes, seed)
    if method == "group":
        return _grouped(ds, sizes, seed)
    if method == "time":
        return _timed(ds, sizes)
    raise SplitError(f"unknown split method '{method}'", "use random, stratified, group or time")


def _predefined(ds: DomainDataset) -> Fold:
    parts = _required(ds.parts, ds, "split")
    fold = {p: np.flatnonzero(parts == p) for p in PARTS}
    if len(fold["train"]) == 0:
        raise SplitError(
            f"the split column of {ds.domain} marks no row as train", "check its values"
        )
    return fold


def _cut(order: np.ndarray, sizes: dict[str, int]) -> Fold:
    a, b = sizes["train"], sizes["train"] + sizes["val"]
    return {"train": np.sort(order[:a]), "val": np.sort(order[a:b]), "test": np.sort(order[b:])}


def _labels_for_strata(ds: DomainDataset) -> np.ndarray:
    if ds.labels is None or ds.missing_labels().any():
        missing = "no labels" if ds.labels is None else f"{int(ds.missing_labels().sum())} missing"
        raise SplitError(
            f"stratified split of {ds.domain} needs every label ({missing})",
            "set clean.drop_missing_labels=true or split.method=random",
        )
    return np.array([str(v) for v in ds.labels])


def _check_strata(y: np.ndarray, parts: int, domain: str, what: str) -> None:
    counts = Counter(y.tolist())
    cls, smallest = min(counts.items(), key=lambda kv: kv[1])
    if smallest < parts:
        raise SplitError(
            f"class '{cls}' of {domain} has {smallest} sample(s); {what} needs at least {parts}",
            "drop or merge that class, or use split.method=random",
        )


def _stratified(ds: DomainDataset, sizes: dict[str, int], seed: int) -> Fold:
    y = _labels_for_strata(ds)
    nonzero = sum(1 for v in sizes.values() if v > 0)
    _check_strata(y, nonzero, ds.domain, f"a stratified {nonzero}-way split")
    n_classes = len(set(y.tolist()))
    for part in ("val", "test"):
        if 0 < sizes[part] < n_classes:
            raise SplitError(
                f"split.{part} gives {sizes[part]} samples of {ds.domain}, fewer than its "
                f"{n_classes} classes, so it cannot be stratified",
                f"raise split.{part} or use split.method=random",
            )
    idx = np.arange(len(ds))
    rest, test = _strat_take(idx, y, sizes["test"], seed)
    train, val = _strat_take(rest, y[rest], sizes["val"], seed + 1)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def _strat_take(idx: np.ndarray, y: np.ndarray, n_take: int, seed: int) -> tuple[np.ndarray, ...]:
    if n_take == 0:
        return idx, idx[:0]
    try:
        keep, take = train_test_split(idx, test_size=n_take, stratify=y, random_state=seed)
    except ValueError as err:
        raise SplitError(f"stratified split failed: {err}", "use split.method=random") from None
    return keep, take


def _grouped(ds: DomainDataset, sizes: dict[str, int], seed: int) -> Fold:
    groups = _required(ds.groups, ds, "group")
    codes, uniques = pd.factorize(pd.Series(groups, dtype=object))
    nonzero = [p for p in PARTS if sizes[p] > 0]
    if len(uniques) < len(nonzero):
        raise SplitError(
            f"{ds.domain} has {len(uniques)} group(s), too few for {len(nonzero)} parts",
            "add groups or set split.val=0",
        )
    counts = np.bincount(codes)
    order = np.random.default_rng(seed).permutation(len(uniques))
    assign = np.empty(len(uniques), dtype=object)
    filled = dict.fromkeys(PARTS, 0)
    # Fill test, then val, greedily by group; everything left is train.
    targets = [("test", sizes["test"]), ("val", sizes["val"])]
    remaining = list(order)
    for part, target in targets:
        # Keep one group back for train, and one for val while filling test.
        reserve = 1 + (part == "test" and sizes["val"] > 0)
        while target > 0 and filled[part] < target and len(remaining) > reserve:
            g = remaining.pop(0)
            assign[g] = part
            filled[part] += counts[g]
    for g in remaining:
        assign[g] = "train"
    parts = assign[codes]
    return {p: np.flatnonzero(parts == p) for p in PARTS}


def _timed(ds: DomainDataset, sizes: dict[str, int]) -> Fold:
    times = _required(ds.times, ds, "time")
    order = np.argsort(times, kind="stable")
    sorted_t = times[order]
    # Move each cut forward past equal timestamps so a time never spans two parts.
    cuts = []
    for pos in (sizes["train"], sizes["train"] + sizes["val"]):
        while 0 < pos < len(order) and sorted_t[pos] == sorted_t[pos - 1]:
            pos += 1
        cuts.append(pos)
    a, b = cuts[0], max(cuts)
    fold = {"train": order[:a], "val": order[a:b], "test": order[b:]}
    for p in PARTS:
        if sizes[p] > 0 and len(fold[p]) == 0:
            raise SplitError(
                f"time split of {ds.domain} leaves split.{p} empty: too many samples share "
                "the same timestamps",
                "use coarser ratios or a finer time column",
            )
    return {p: np.sort(v) for p, v in fold.items()}


def _required(values: np.ndarray | None, ds: DomainDataset, role: str) -> np.ndarray:
    if values is None:
        raise SplitError(
            f"split by {role} needs a {role} column for {ds.domain}", f"set data.source.{role}"
        )
    missing = pd.isna(pd.Series(values, dtype=object)).to_numpy()
    if missing.any():
        raise SplitError(
            f"{int(missing.sum())} samples of {ds.domain} have no {role} value "
            f"(first: {ds.ids[int(np.flatnonzero(missing)[0])]})",
            "fill them or drop those rows",
        )
    return values


def _kfold(ds: DomainDataset, cfg: SplitConfig, by: str, task: str | None) -> list[Fold]:
    n, k = len(ds), cfg.k
    if k > n:
        raise SplitError(f"split.k={k} is larger than the {n} samples of {ds.domain}", "lower k")
    idx = np.arange(n)
    if by == "random":
        pairs = KFold(k, shuffle=True, random_state=cfg.seed).split(idx)
    elif by == "stratified":
        y = _labels_for_strata(ds)
        _check_strata(y, k, ds.domain, f"stratified {k}-fold")
        pairs = StratifiedKFold(k, shuffle=True, random_state=cfg.seed).split(idx, y)
    elif by == "group":
        pairs = _group_kfold(ds, k, cfg.seed)
    else:
        pairs = _time_kfold(ds, k)
    folds = []
    for train, test in pairs:
        fold = {"train": np.sort(train), "val": idx[:0], "test": np.sort(test)}
        if cfg.val > 0:
            inner = SplitConfig(train=1 - cfg.val, val=cfg.val, test=0.0, seed=cfg.seed)
            sub = ds.subset(train)
            method = resolve_method("auto" if by == "random" else by, sub, task)
            inner_fold = _holdout(sub, method, part_sizes(len(sub), inner, ds.domain), cfg.seed)
            fold["train"], fold["val"] = train[inner_fold["train"]], train[inner_fold["val"]]
            fold = {p: np.sort(v) for p, v in fold.items()}
        folds.append(fold)
    return folds


def _group_kfold(ds: DomainDataset, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    groups = _required(ds.groups, ds, "group")
    codes, uniques = pd.factorize(pd.Series(groups, dtype=object))
    if k > len(uniques):
        raise SplitError(
            f"split.k={k} is larger than the {len(uniques)} groups of {ds.domain}", "lower k"
        )
    order = np.random.default_rng(seed).permutation(len(uniques))
    fold_of_group = np.empty(len(uniques), dtype=int)
    load = np.zeros(k)
    counts = np.bincount(codes)
    # Largest groups first into the lightest fold keeps folds balanced.
    for g in sorted(order, key=lambda g: -counts[g]):
        f = int(np.argmin(load))
        fold_of_group[g] = f
        load[f] += counts[g]
    fold_of = fold_of_group[codes]
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]


def _time_kfold(ds: DomainDataset, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding window over distinct timestamps: fold i trains on blocks <= i, tests on i+1."""
    times = _required(ds.times, ds, "time")
    distinct = np.unique(times)
    if len(distinct) < k + 1:
        raise SplitError(
            f"time k-fold with split.k={k} needs at least {k + 1} distinct times; "
            f"{ds.domain} has {len(distinct)}",
            "lower k",
        )
    blocks = np.array_split(np.arange(len(distinct)), k + 1)
    block_of = np.searchsorted(distinct, times)
    block_id = np.empty(len(distinct), dtype=int)
    for b, members in enumerate(blocks):
        block_id[members] = b
    which = block_id[block_of]
    return [(np.flatnonzero(which <= f), np.flatnonzero(which == f + 1)) for f in range(k)]
