"""Feature selection fitted on the training split, after preprocessing.

``features.select`` picks the method; ``features.k`` is the number of features to keep (needed
by chi2, mutual_info and rfe; an upper bound for l1 and tree) and ``features.threshold`` the
cut-off (variance: keep variance > threshold, default 0; correlation: drop a feature whose
|Pearson r| with an earlier kept feature exceeds it, default 0.95; l1: minimum |coefficient|,
default 1e-5; tree: minimum importance, default the mean importance, or none when only k is set).

Estimators: LogisticRegression (classification) or Ridge (regression) for rfe and rfecv; L1
logistic regression with C=0.1 (liblinear for two classes, saga for more) or LassoCV (cv=3: a
fixed alpha would zero every weight on some label scales) for l1; ExtraTrees(100) for tree.
Samples without a label are ignored. Only chosen column indices and per-feature scores are
saved: ``to_dict`` is plain JSON, never a pickled estimator.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.feature_selection import (
    RFE,
    RFECV,
    SelectFromModel,
    SelectKBest,
    VarianceThreshold,
    chi2,
    mutual_info_classif,
    mutual_info_regression,
)
from sklearn.linear_model import LassoCV, LogisticRegression, Ridge

from domainfit.config import FeaturesConfig
from domainfit.errors import ConfigError, DataError
from domainfit.io_utils import check_format, read_state, write_json_atomic

FORMAT = "domainfit.features"
VERSION = 1
NEEDS_K = ("chi2", "mutual_info", "rfe")
USES_K = (*NEEDS_K, "l1", "tree")
USES_THRESHOLD = ("variance", "correlation", "l1", "tree")
MAX_CORRELATION_FEATURES = 5000  # the d x d correlation matrix must fit in memory
Selection = tuple[np.ndarray, np.ndarray | None, str]  # kept mask, scores, what scores mean


class FeatureSelector:
    """``fit(x, y, names)`` on the training split, then ``transform`` any split or domain."""

    def __init__(
        self, cfg: FeaturesConfig | None = None, *, task: str = "classification", seed: int = 0
    ) -> None:
        self.cfg = cfg or FeaturesConfig()
        if task not in ("classification", "regression"):
            raise ValueError(f"task must be classification or regression, not {task!r}")
        if self.cfg.select == "chi2" and task != "classification":
            raise ConfigError(
                "features.select=chi2 needs a classification task",
                "choose mutual_info, l1 or tree for regression",
            )
        self.task = task
        self.seed = seed
        _check_options(self.cfg)
        self.state: dict[str, Any] | None = None

    def fit(self, x: Any, y: np.ndarray | None, names: list[str] | None = None) -> FeatureSelector:
        d = x.shape[1]
        names = list(names) if names is not None else [f"f{j}" for j in range(d)]
        if len(names) != d:
            raise ValueError(f"{len(names)} names for {d} feature columns")
        if self.cfg.k is not None and self.cfg.k > d:
            raise ConfigError(
                f"features.k={self.cfg.k} but there are only {d} features after preprocessing",
                f"set features.k between 1 and {d}",
            )
        _check_finite(x, names)
        mask, scores, kind = self._select(x, y)
        if not mask.any():
            raise DataError(
                f"features.select={self.cfg.select} kept no feature of {d}", _fix_for_none(self.cfg)
            )
        self.state = {
            "method": self.cfg.select,
            "k": self.cfg.k,
            "threshold": _threshold(self.cfg),
            "task": self.task,
            "seed": self.seed,
            "names": names,
            "selected": [int(j) for j in np.flatnonzero(mask)],
            "score_kind": kind,
            "scores": None if scores is None else [_json_float(v) for v in scores],
        }
        return self

    def transform(self, x: Any) -> Any:
        state = self._fitted()
        if x.shape[1] != len(state["names"]):
            raise DataError(
                f"the feature matrix has {x.shape[1]} columns but feature selection was fitted "
                f"on {len(state['names'])}",
                "preprocess every domain with the same preprocessor",
            )
        return x[:, state["selected"]]

    def fit_transform(self, x: Any, y: np.ndarray | None, names: list[str] | None = None) -> Any:
        return self.fit(x, y, names).transform(x)

    @property
    def selected(self) -> list[int]:
        return list(self._fitted()["selected"])

    @property
    def selected_names(self) -> list[str]:
        state = self._fitted()
        return [state["names"][j] for j in state["selected"]]

    def to_dict(self) -> dict[str, Any]:
        state = self._fitted()
        extra = {"selected_names": self.selected_names}  # for people reading the file
        return {"format": FORMAT, "version": VERSION} | json.loads(json.dumps(state)) | extra

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureSelector:
        check_format(d, FORMAT, VERSION, "feature selection")
        cfg = FeaturesConfig(select=d["method"], k=d["k"], threshold=d["threshold"])
        sel = cls(cfg, task=d["task"], seed=d["seed"])
        keys = ("method", "k", "threshold", "task", "seed", "names", "selected", "score_kind")
        sel.state = {k: d[k] for k in keys} | {"scores": d.get("scores")}
        return sel

    def save(self, path: str | Path) -> None:
        """Atomic: a temporary file in the same folder replaces ``path`` when complete."""
        write_json_atomic(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> FeatureSelector:
        d = read_state(path, FORMAT, VERSION, "feature selection")
        return cls.from_dict(d)

    def _fitted(self) -> dict[str, Any]:
        if self.state is None:
            raise RuntimeError("FeatureSelector is not fitted; call fit(x, y, names) first")
        return self.state

    def _select(self, x: Any, y: np.ndarray | None) -> Selection:
        method = self.cfg.select
        if method == "none":
            return np.ones(x.shape[1], dtype=bool), None, "none"
        if method == "variance":
            return _variance(x, _threshold(self.cfg))
        if method == "correlation":
            return _correlation(x, _threshold(self.cfg))
        x, y = _labelled(x, y, self.task, method)
        if method in ("chi2", "mutual_info"):
            return _k_best(x, y, method, self.cfg.k or 0, self.task, self.seed)
        if method in ("rfe", "rfecv"):
            return _rfe(x, y, self.cfg.k if method == "rfe" else None, self.task)
        return _from_model(x, y, method, self.cfg, self.task, self.seed)


def _check_options(cfg: FeaturesConfig) -> None:
    """k and threshold only where they mean something, so a typo'd intent is not ignored."""
    if cfg.k is not None and cfg.select not in USES_K:
        raise ConfigError(
            f"features.k={cfg.k} has no effect with features.select={cfg.select}",
            f"remove features.k, or use it with select {', '.join(USES_K)}",
        )
    if cfg.k is None and cfg.select in NEEDS_K:
        raise ConfigError(
            f"features.select={cfg.select} needs features.k (the number of features to keep)",
            "set features.k",
        )
    if cfg.threshold is not None and cfg.select not in USES_THRESHOLD:
        raise ConfigError(
            f"features.threshold={cfg.threshold} has no effect with features.select={cfg.select}",
            f"remove features.threshold, or use it with select {', '.join(USES_THRESHOLD)}",
        )
    t = cfg.threshold
    if t is not None and cfg.select == "correlation" and not 0.0 <= t <= 1.0:
        raise ConfigError(
            f"features.threshold={t} is not a correlation", "set it between 0 and 1, e.g. 0.95"
        )
    if t is not None and cfg.select in ("variance", "l1") and t < 0:
        raise ConfigError(f"features.threshold={t} must be >= 0 for select={cfg.select}")


def _threshold(cfg: FeaturesConfig) -> float | None:
    if cfg.threshold is not None:
        return cfg.threshold
    return {"variance": 0.0, "correlation": 0.95, "l1": 1e-5}.get(cfg.select)


def _fix_for_none(cfg: FeaturesConfig) -> str:
    if cfg.select == "variance":
        return f"lower features.threshold (now {_threshold(cfg)})"
    if cfg.select == "l1":
        return "the L1 model zeroed every weight; lower features.threshold or choose select=tree"
    return "lower features.threshold, or set features.k"


def _json_float(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None  # JSON has no NaN (chi2 of a zero column)


def _check_finite(x: Any, names: list[str]) -> None:
    values = x.data if sp.issparse(x) else np.asarray(x, dtype=float)
    if np.isfinite(values).all():
        return
    if sp.issparse(x):
        bad_cols = sorted({names[j] for j in x.tocoo().col[~np.isfinite(x.tocoo().data)]})
    else:
        bad_cols = [names[j] for j in np.flatnonzero(~np.isfinite(values).all(axis=0))]
    raise DataError(
        f"the feature matrix holds missing or infinite values in {len(bad_cols)} column(s) "
        f"(e.g. {bad_cols[0]!r}); feature selection needs complete data",
        "set preprocess.impute to median, mean, most_frequent or constant",
    )


def _labelled(x: Any, y: np.ndarray | None, task: str, method: str) -> tuple[Any, np.ndarray]:
    """The labelled rows, with labels typed for the task."""
    if y is None:
        raise DataError(f"features.select={method} needs labels", "choose variance or correlation")
    y = np.asarray(y)
    have = ~np.asarray(pd.isna(pd.Series(y, dtype=object)), dtype=bool)
    x, y = x[np.flatnonzero(have)], y[have]
    if task == "regression":
        try:
            return x, y.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(
                f"features.select={method} for regression needs numeric labels; got {y[0]!r}",
                "set data.task: classification",
            ) from None
    y = y.astype(str) if y.dtype == object else y
    if len(np.unique(y)) < 2:
        raise DataError(
            f"features.select={method} needs at least two classes in the training split; "
            f"found {len(np.unique(y))}",
            "check the labels, or choose variance or correlation",
        )
    return x, y


def _variance(x: Any, threshold: float | None) -> Selection:
    sel = VarianceThreshold(threshold=threshold or 0.0)
    try:
        sel.fit(x)
    except ValueError:  # no feature above the threshold: reported by the caller
        return np.zeros(x.shape[1], dtype=bool), None, "variance"
    return sel.get_support(), sel.variances_, "variance"


def _correlation(x: Any, threshold: float | None) -> Selection:
    """Greedy, in column order: keep a feature unless |r| with an already kept one exceeds the
    threshold, so of each correlated pair the earlier column stays. Constant columns have no
    correlation and are kept (variance selection removes them)."""
    d = x.shape[1]
    if d > MAX_CORRELATION_FEATURES:
        raise DataError(
            f"features.select=correlation builds a {d} x {d} matrix; at most "
            f"{MAX_CORRELATION_FEATURES} features are supported",
            "choose variance, mutual_info or l1 for wide data",
        )
    corr = np.abs(_correlation_matrix(x))
    keep = np.zeros(d, dtype=bool)
    worst = np.zeros(d)  # largest |r| with an earlier kept feature: why a column was dropped
    for j in range(d):
        kept = np.flatnonzero(keep[:j])
        worst[j] = corr[j, kept].max() if kept.size else 0.0
        keep[j] = worst[j] <= (0.95 if threshold is None else threshold)
    return keep, worst, "max |r| with an earlier kept feature"


def _correlation_matrix(x: Any) -> np.ndarray:
    n = x.shape[0]
    if sp.issparse(x):  # no centring of the sparse matrix itself: the means enter afterwards
        mean = np.asarray(x.mean(axis=0)).ravel()
        cov = np.asarray((x.T @ x).todense()) / n - np.outer(mean, mean)
    else:
        dense = np.asarray(x, dtype=np.float64)
        mean = dense.mean(axis=0)
        centred = dense - mean
        cov = centred.T @ centred / n
    std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    flat = std <= 1e-12 * (np.abs(mean) + 1.0)  # constant up to rounding
    std[flat] = 1.0
    corr = np.clip(cov / np.outer(std, std), -1.0, 1.0)
    corr[flat, :] = 0.0
    corr[:, flat] = 0.0
    return corr


def _k_best(x: Any, y: np.ndarray, method: str, k: int, task: str, seed: int) -> Selection:
    if method == "chi2":
        lowest = float(x.min()) if x.shape[0] else 0.0
        if lowest < 0:
            raise DataError(
                f"features.select=chi2 needs non-negative features; the smallest value is "
                f"{lowest:g} (standard scaling centres features around 0)",
                "set preprocess.scaler: minmax",
            )
        score: Any = chi2
    else:
        mi = mutual_info_classif if task == "classification" else mutual_info_regression
        score = partial(mi, random_state=seed)
    sel = SelectKBest(score, k=k).fit(x, y)
    kind = "chi2 statistic" if method == "chi2" else "mutual information"
    return sel.get_support(), sel.scores_, kind


def _rfe(x: Any, y: np.ndarray, k: int | None, task: str) -> Selection:
    est = LogisticRegression(max_iter=1000) if task == "classification" else Ridge()
    step: float = 1 if x.shape[1] <= 100 else 0.05  # wide data: drop 5% per round, for speed
    if k is not None:
        sel: Any = RFE(est, n_features_to_select=k, step=step)
    else:
        sel = RFECV(est, step=step, cv=3, min_features_to_select=1)
    try:
        sel.fit(x, y)
    except ValueError as exc:  # e.g. a class with fewer members than folds
        raise DataError(f"features.select={'rfe' if k else 'rfecv'} failed: {exc}") from None
    return sel.get_support(), sel.ranking_, "elimination rank (1 = kept)"


def _from_model(
    x: Any, y: np.ndarray, method: str, cfg: FeaturesConfig, task: str, seed: int
) -> Selection:
    threshold: Any = _threshold(cfg)
    if method == "l1":
        est: BaseEstimator = _l1_model(y, task, seed)
    else:
        est = (ExtraTreesClassifier if task == "classification" else ExtraTreesRegressor)(
            n_estimators=100, random_state=seed
        )
        if threshold is None:  # with only k set, keep exactly the k most important
            threshold = -np.inf if cfg.k is not None else "mean"
    sel = SelectFromModel(est, threshold=threshold, max_features=cfg.k).fit(x, y)
    fitted = sel.estimator_
    if method == "tree":
        return sel.get_support(), fitted.feature_importances_, "impurity importance"
    coef = np.abs(np.atleast_2d(fitted.coef_)).sum(axis=0)
    return sel.get_support(), coef, "|coefficient| (summed over classes)"


def _l1_model(y: np.ndarray, task: str, seed: int) -> BaseEstimator:
    if task == "regression":
        return LassoCV(cv=3, random_state=seed)
    solver = "liblinear" if len(np.unique(y)) == 2 else "saga"  # liblinear: two classes only
    # C=0.1: at C=1 the L1 penalty barely bites on a few hundred samples and keeps most noise.
    return LogisticRegression(l1_ratio=1.0, C=0.1, solver=solver, max_iter=2000, random_state=seed)
