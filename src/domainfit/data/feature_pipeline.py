"""Preprocessing then (optionally) feature selection: what a table or feature array goes
through before a features backbone reads it. Fitted on the training split only; saved with a
run so ``predict`` applies exactly the same steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from domainfit.config import RunConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.features import FeatureSelector
from domainfit.data.preprocess import Preprocessor

PRE_FILE, SELECT_FILE = "preprocess.json", "features.json"


class FeaturePipeline:
    def __init__(self, pre: Preprocessor, selector: FeatureSelector | None = None) -> None:
        self.pre, self.selector = pre, selector

    @classmethod
    def fit(cls, train: DomainDataset, cfg: RunConfig, task: str) -> FeaturePipeline:
        pre = Preprocessor(cfg.preprocess).fit(train)
        selector = None
        if cfg.features.select != "none":
            selector = FeatureSelector(cfg.features, task=task, seed=cfg.seed)
            selector.fit(pre.transform(train), np.asarray(train.labels), pre.feature_names_out())
        return cls(pre, selector)

    def transform(self, ds: DomainDataset) -> Any:
        x = self.pre.transform(ds)
        return x if self.selector is None else self.selector.transform(x)

    @property
    def width(self) -> int:
        return len(self.selector.selected) if self.selector is not None else self.pre.width

    def save(self, folder: Path) -> None:
        self.pre.save(folder / PRE_FILE)
        if self.selector is not None:
            self.selector.save(folder / SELECT_FILE)

    @classmethod
    def load(cls, folder: Path) -> FeaturePipeline | None:
        if not (folder / PRE_FILE).is_file():
            return None
        selector = None
        if (folder / SELECT_FILE).is_file():
            selector = FeatureSelector.load(folder / SELECT_FILE)
        return cls(Preprocessor.load(folder / PRE_FILE), selector)
