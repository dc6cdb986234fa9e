"""Classification and regression metrics from predictions, through scikit-learn.

Inputs are integer class ids ``y`` and a probability matrix ``proba`` (N, C) for classification,
or float targets and predictions for regression. Every function returns plain floats, so results
go straight into JSON, MLflow and reports.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn import metrics as skm

HEADLINE = {"classification": "accuracy", "regression": "rmse"}


def classification_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Headline and secondary metrics; AUCs are left out when only one class is present."""
    y = np.asarray(y, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    proba = proba / proba.sum(1, keepdims=True)  # float32 softmax sums drift from 1
    n_classes = proba.shape[1]
    pred = proba.argmax(1)
    labels = np.arange(n_classes)
    out = {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": _quiet(skm.balanced_accuracy_score, y, pred),
        "log_loss": float(skm.log_loss(y, np.clip(proba, 1e-15, 1.0), labels=labels)),
        "ece": expected_calibration_error(y, proba),
    }
    for avg in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(
            y, pred, labels=labels, average=avg, zero_division=0
        )
        out |= {f"precision_{avg}": float(p), f"recall_{avg}": float(r), f"f1_{avg}": float(f)}
    if len(np.unique(y)) == n_classes:  # every class present: AUCs are defined
        if n_classes == 2:
            out["roc_auc"] = float(skm.roc_auc_score(y, proba[:, 1]))
            out["pr_auc"] = float(skm.average_precision_score(y, proba[:, 1]))
        else:
            out["roc_auc"] = float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=labels))
            onehot = np.eye(n_classes)[y]
            out["pr_auc"] = float(skm.average_precision_score(onehot, proba, average="macro"))
    return out


def per_class(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> list[dict[str, Any]]:
    pred = np.asarray(proba).argmax(1)
    labels = np.arange(len(classes))
    p, r, f, support = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    return [
        {
            "class": c,
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(support[i]),
        }
        for i, c in enumerate(classes)
    ]


def confusion(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Rows are true classes, columns predicted ones."""
    n = np.asarray(proba).shape[1]
    return skm.confusion_matrix(y, np.asarray(proba).argmax(1), labels=np.arange(n))


def most_confused(cm: np.ndarray, classes: list[str], top: int = 5) -> list[dict[str, Any]]:
    """Off-diagonal cells, largest first: which true class is taken for which."""
    cells = [
        (int(cm[i, j]), i, j)
        for i in range(len(classes))
        for j in range(len(classes))
        if i != j and cm[i, j] > 0
    ]
    cells.sort(reverse=True)
    return [{"true": classes[i], "predicted": classes[j], "count": n} for n, i, j in cells[:top]]


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size
    (Guo et al. 2017). scikit-learn has calibration curves but no ECE."""
    conf = np.asarray(proba).max(1)
    correct = np.asarray(proba).argmax(1) == np.asarray(y)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    mse = float(skm.mean_squared_error(y, pred))
    return {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": float(skm.mean_absolute_error(y, pred)),
        "r2": float(skm.r2_score(y, pred)) if len(y) > 1 else float("nan"),
    }


def _quiet(fn: Any, *args: Any) -> float:
    with warnings.catch_warnings():  # e.g. a class missing from y_pred: the number is still right
        warnings.simplefilter("ignore")
        return float(fn(*args))
