"""Headline metrics over many bootstrap resamples at once.

Calling scikit-learn once per resample costs about a millisecond a call, so 1000 resamples of a
handful of metrics took tens of seconds per split. Here each resample's confusion matrix comes
from one ``bincount`` and AUCs from ranks, all rounds together; the tests check every function
against scikit-learn on the unresampled data.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def confusions(y: np.ndarray, pred: np.ndarray, idx: np.ndarray, n_classes: int) -> np.ndarray:
    """(rounds, C, C) confusion matrices, rows true, of the resamples ``idx`` (rounds, n)."""
    rounds = idx.shape[0]
    cells = n_classes * n_classes
    codes = y[idx] * n_classes + pred[idx] + cells * np.arange(rounds)[:, None]
    flat = np.bincount(codes.ravel(), minlength=rounds * cells)
    return flat.reshape(rounds, n_classes, n_classes)


def accuracy(cm: np.ndarray) -> np.ndarray:
    return np.trace(cm, axis1=1, axis2=2) / cm.sum(axis=(1, 2))


def balanced_accuracy(cm: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present in each resample (as scikit-learn does)."""
    support = cm.sum(axis=2)
    diag = np.diagonal(cm, axis1=1, axis2=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, diag / support, np.nan)
    return np.nanmean(recall, axis=1)


def f1_macro(cm: np.ndarray) -> np.ndarray:
    """Mean F1 over all classes; a class never true nor predicted scores 0 (zero_division=0)."""
    diag = np.diagonal(cm, axis1=1, axis2=2).astype(np.float64)
    denom = cm.sum(axis=2) + cm.sum(axis=1)  # 2TP + FP + FN = true + predicted counts
    f1 = np.divide(2 * diag, denom, out=np.zeros_like(diag), where=denom > 0)
    return f1.mean(axis=1)


def binary_auc(positive: np.ndarray, score: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """ROC-AUC per resample by the Mann-Whitney rank sum (ties get average ranks); NaN when a
    resample holds one class only."""
    pos = positive[idx]
    ranks = stats.rankdata(score[idx], axis=1)
    n_pos = pos.sum(axis=1).astype(np.float64)
    n_neg = pos.shape[1] - n_pos
    rank_sum = (ranks * pos).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def roc_auc(y: np.ndarray, proba: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Binary AUC of the positive class, or the one-vs-rest macro average; NaN for resamples
    missing a class (scikit-learn refuses those)."""
    n_classes = proba.shape[1]
    if n_classes == 2:
        return binary_auc(y == 1, proba[:, 1], idx)
    per_class = np.stack([binary_auc(y == c, proba[:, c], idx) for c in range(n_classes)])
    return per_class.mean(axis=0)  # NaN if any class is absent


def regression(y: np.ndarray, pred: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
    yt, yp = y[idx], pred[idx]
    err = yp - yt
    ss_res = (err**2).sum(axis=1)
    ss_tot = ((yt - yt.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1 - ss_res / ss_tot
    return {
        "rmse": np.sqrt((err**2).mean(axis=1)),
        "mae": np.abs(err).mean(axis=1),
        "r2": r2,
    }
