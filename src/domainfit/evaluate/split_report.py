"""What a run records about each evaluated split (see docs/run-folder.md): per-sample predictions
with their loss, metrics with bootstrap confidence intervals, class tables, and the samples the
model got most wrong."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from domainfit.evaluate import resampled
from domainfit.evaluate.bootstrap import resample_indices
from domainfit.evaluate.metrics import (
    HEADLINE,
    classification_metrics,
    confusion,
    most_confused,
    per_class,
    regression_metrics,
)


def headline(task: str) -> str:
    return HEADLINE["regression" if task == "regression" else "classification"]


def sample_losses(task: str, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Cross-entropy of the true class, or the squared error for regression."""
    if task == "regression":
        return (np.asarray(out, dtype=np.float64) - y) ** 2
    p = np.clip(out[np.arange(len(y)), y.astype(np.int64)], 1e-15, 1.0)
    return -np.log(p)


def predictions_frame(
    ids: list[str], y: np.ndarray | None, out: np.ndarray, task: str, classes: list[str]
) -> pd.DataFrame:
    """One row per sample: id, label, prediction, loss, and p:<class> per class."""
    frame = pd.DataFrame({"id": ids})
    if task == "regression":
        frame["label"] = y if y is not None else np.nan
        frame["prediction"] = out
    else:
        frame["label"] = [classes[i] for i in y] if y is not None else ""
        frame["prediction"] = [classes[i] for i in out.argmax(1)]
    frame["loss"] = sample_losses(task, y, out) if y is not None else np.nan
    if task != "regression":
        for j, c in enumerate(classes):
            frame[f"p:{c}"] = out[:, j]
    return frame


def split_evaluation(
    y: np.ndarray, out: np.ndarray, task: str, classes: list[str], *, rounds: int = 1000
) -> dict[str, Any]:
    """Metrics, their 95% bootstrap intervals and, for classification, the class tables."""
    idx = resample_indices(len(y), rounds, seed=0)
    if task == "regression":
        metrics = regression_metrics(y, out)
        values = resampled.regression(np.asarray(y, np.float64), np.asarray(out, np.float64), idx)
    else:
        metrics = classification_metrics(y, out)
        y = np.asarray(y, dtype=np.int64)
        cm = resampled.confusions(y, out.argmax(1), idx, out.shape[1])
        values = {
            "accuracy": resampled.accuracy(cm),
            "balanced_accuracy": resampled.balanced_accuracy(cm),
            "f1_macro": resampled.f1_macro(cm),
        }
        if "roc_auc" in metrics:
            values["roc_auc"] = resampled.roc_auc(y, out, idx)
    ci = {}
    for name, vals in values.items():
        vals = vals[np.isfinite(vals)]  # resamples where a metric is undefined are left out
        if len(vals):
            ci[name] = [float(v) for v in np.percentile(vals, [2.5, 97.5])]
    result: dict[str, Any] = {"n": len(y), "metrics": metrics, "ci": ci}
    if task != "regression":
        cm = confusion(y, out)
        result |= {
            "per_class": per_class(y, out, classes),
            "confusion": cm.tolist(),
            "most_confused": most_confused(cm, classes),
        }
    return result


def highest_loss(frame: pd.DataFrame, top: int = 12) -> pd.DataFrame:
    labelled = frame[frame["loss"].notna()]
    return labelled.sort_values("loss", ascending=False, kind="stable").head(top)


def example_records(
    worst: pd.DataFrame, positions: list[int], inputs: Any, kind: str, task: str
) -> list[dict[str, Any]]:
    """The rows of ``worst`` as report entries, with a text snippet or an image thumbnail."""
    records = []
    probs = [c for c in worst.columns if c.startswith("p:")]
    for (_, row), pos in zip(worst.iterrows(), positions, strict=True):
        rec: dict[str, Any] = {
            "id": str(row["id"]),
            "label": _plain(row["label"]),
            "prediction": _plain(row["prediction"]),
            "loss": float(row["loss"]),
        }
        if task != "regression":
            rec["confidence"] = float(row[probs].max())
        if kind == "text":
            text = inputs[pos]
            rec["text"] = "" if text is None else str(text)[:300]
        elif kind == "image":
            thumb = thumbnail(inputs[pos])
            if thumb:
                rec["image"] = thumb
        records.append(rec)
    return records


def thumbnail(path: str, size: int = 96) -> str | None:
    """A PNG data URI of the image, at most ``size`` pixels a side; None if it cannot be read."""
    import base64
    import io

    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB") if img.mode not in ("L", "RGB") else img.copy()
    except (OSError, ValueError):
        return None
    img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
