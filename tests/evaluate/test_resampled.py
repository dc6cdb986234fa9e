"""The vectorised resample metrics agree with scikit-learn resample by resample."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from domainfit.evaluate import resampled
from domainfit.evaluate.bootstrap import resample_indices


@pytest.mark.parametrize("n_classes", [2, 4])
def test_classification_metrics_match_sklearn(n_classes: int) -> None:
    rng = np.random.default_rng(n_classes)
    y = rng.integers(0, n_classes, 80)
    proba = rng.dirichlet(np.ones(n_classes), 80)
    proba[:, 0] = np.round(proba[:, 0], 1)  # ties in the scores: ranks must average them
    proba /= proba.sum(1, keepdims=True)
    idx = resample_indices(80, 25, seed=1)
    pred = proba.argmax(1)
    cm = resampled.confusions(y, pred, idx, n_classes)
    acc, bal = resampled.accuracy(cm), resampled.balanced_accuracy(cm)
    f1, auc = resampled.f1_macro(cm), resampled.roc_auc(y, proba, idx)
    labels = np.arange(n_classes)
    for r, rows in enumerate(idx):
        yr, pr = y[rows], proba[rows]
        assert acc[r] == pytest.approx(skm.accuracy_score(yr, pr.argmax(1)))
        with np.errstate(all="ignore"):
            assert bal[r] == pytest.approx(skm.balanced_accuracy_score(yr, pr.argmax(1)))
        want_f1 = skm.f1_score(yr, pr.argmax(1), average="macro", labels=labels, zero_division=0)
        assert f1[r] == pytest.approx(want_f1)
        if len(np.unique(yr)) < n_classes:
            assert np.isnan(auc[r])
        elif n_classes == 2:
            assert auc[r] == pytest.approx(skm.roc_auc_score(yr, pr[:, 1]))
        else:
            assert auc[r] == pytest.approx(skm.roc_auc_score(yr, pr, multi_class="ovr"))


def test_regression_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    pred = y + rng.normal(scale=0.5, size=50)
    idx = resample_indices(50, 10, seed=2)
    got = resampled.regression(y, pred, idx)
    for r, rows in enumerate(idx):
        assert got["rmse"][r] == pytest.approx(np.sqrt(skm.mean_squared_error(y[rows], pred[rows])))
        assert got["mae"][r] == pytest.approx(skm.mean_absolute_error(y[rows], pred[rows]))
        assert got["r2"][r] == pytest.approx(skm.r2_score(y[rows], pred[rows]))
