"""The target domain's splits under adaptation: the transductive protocol of the UDA benchmarks
(all target samples are both the unlabelled training pool and the test set) and the few
labelled target samples that ``data.target_labels`` lets training use."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from domainfit.config import RunConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.split import Fold
from domainfit.errors import DataError


def transductive_fold(n: int) -> Fold:
    everything = np.arange(n)
    return {"train": everything, "val": np.array([], dtype=int), "test": everything.copy()}


def labelled_target(ds: DomainDataset, fold: Fold, cfg: RunConfig) -> np.ndarray:
    """Indices (into ``ds``) of the target training samples whose labels training may use:
    ``data.target_labels`` of them (a count, or a fraction of the training split), stratified
    by label and seeded. Empty when it is 0."""
    want = cfg.data.target_labels
    pool = fold["train"]
    if want == 0:
        return np.array([], dtype=int)
    n = int(want) if want >= 1 else round(want * len(pool))
    if ds.labels is None or ds.missing_labels()[pool].any():
        raise DataError(
            f"data.target_labels={want:g} asks for labelled target samples, but the target "
            f"{ds.domain} has samples without labels",
            "set data.target.label to the label column, or data.target_labels: 0",
        )
    if not 1 <= n < len(pool):
        raise DataError(
            f"data.target_labels={want:g} selects {n} of the {len(pool)} target training "
            "samples; it must leave at least one and take at least one",
            "lower data.target_labels, or set it to 0 for unsupervised adaptation",
        )
    strata = np.array([str(v) for v in ds.labels[pool]])
    try:
        chosen, _ = train_test_split(pool, train_size=n, stratify=strata, random_state=cfg.seed)
    except ValueError:  # fewer samples than classes, or a singleton class
        chosen, _ = train_test_split(pool, train_size=n, random_state=cfg.seed)
    return np.sort(chosen)
