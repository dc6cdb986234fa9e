"""What a run report shows, section by section, as plain data for the templates. A section
whose files are missing comes out empty (None or []) and the template leaves it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from markupsafe import Markup

from domainfit.report import plots
from domainfit.report.runfolder import RunFolder, ci_pair, number, split_sort_key


@dataclass
class Plot:
    name: str  # data-plot attribute: how tests and readers find a figure
    caption: str
    svg: Markup


def plot(name: str, caption: str, svg: str | None) -> list[Plot]:
    return [Plot(name, caption, Markup(svg))] if svg else []


@dataclass
class SplitView:
    name: str
    n: Any
    metrics: list[tuple[str, float | None, list[float] | None]]
    plots: list[Plot]
    per_class: list[dict[str, Any]]
    most_confused: list[dict[str, Any]]
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def example_samples(self) -> bool:
        """Whether the examples carry a text or image (tables and features carry only ids)."""
        return any(e.get("text") or e.get("image") for e in self.examples)


def training_plots(run: RunFolder) -> list[Plot]:
    return plot(
        "learning-curves",
        "Training and validation loss, and the validation metrics, at each validation.",
        plots.learning_curves(run.history),
    ) + plot(
        "learning-rates",
        "Learning rate of each layer group (shallow to deep) over optimizer steps; "
        "a gap means the group was frozen.",
        plots.learning_rates(run.lr_history),
    )


def _metric_rows(split: dict[str, Any]) -> list[tuple[str, float | None, list[float] | None]]:
    metrics = split.get("metrics") if isinstance(split.get("metrics"), dict) else {}
    cis = split.get("ci") if isinstance(split.get("ci"), dict) else {}
    return [(str(k), number(v), ci_pair(cis.get(k))) for k, v in metrics.items()]


def _split_plots(run: RunFolder, name: str, split: dict[str, Any]) -> list[Plot]:
    out = plot(
        f"confusion-{name}",
        f"Confusion matrix on {name}: counts, coloured by the share of each true class.",
        plots.confusion_heatmap(split["confusion"], run.classes, f"Confusion matrix ({name})")
        if isinstance(split.get("confusion"), list)
        else None,
    )
    pred = run.predictions(name)
    if pred is None or len(pred.y) == 0:
        return out
    if run.is_regression:
        return out + plot(
            f"scatter-{name}",
            f"True against predicted values on {name}; the dotted line is a perfect fit.",
            plots.regression_scatter(pred.y, pred.out, f"True vs predicted ({name})"),
        )
    which = "the positive class" if len(run.classes) == 2 else "each class against the rest"
    return (
        out
        + plot(
            f"roc-{name}",
            f"ROC curve of {which} on {name} (at most {plots.MAX_CURVE_CLASSES} classes).",
            plots.roc_curves(pred.y, pred.out, run.classes, f"ROC ({name})"),
        )
        + plot(
            f"pr-{name}",
            f"Precision–recall curve of {which} on {name}.",
            plots.pr_curves(pred.y, pred.out, run.classes, f"Precision–recall ({name})"),
        )
    )


def _records(value: Any) -> list[dict[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _examples(run: RunFolder, name: str) -> list[dict[str, Any]]:
    rows = []
    for ex in run.examples(name):
        image = ex.get("image")
        # only inline images: a report must never fetch anything
        ok = isinstance(image, str) and image.startswith("data:image/")
        rows.append({**ex, "image": image if ok else None})
    return rows


def split_views(run: RunFolder) -> list[SplitView]:
    views = []
    for name, split in run.splits.items():
        views.append(
            SplitView(
                name=name,
                n=split.get("n"),
                metrics=_metric_rows(split),
                plots=_split_plots(run, name, split),
                per_class=_records(split.get("per_class")),
                most_confused=_records(split.get("most_confused")),
                examples=_examples(run, name),
            )
        )
    return views


@dataclass
class FoldRow:
    fold: str
    link: str | None
    values: dict[str, float]
    headline: float | None = None
    ci: list[float] | None = None


@dataclass
class CrossValidation:
    metrics: list[str]
    folds: list[FoldRow]
    mean: dict[str, float]
    std: dict[str, float]

    def summary(self, metric: str) -> tuple[float, float | None] | None:
        """Mean and std of ``metric``, keyed plainly or as ``<role>.test.<metric>``."""
        keys = [metric, f"target.test.{metric}", f"source.test.{metric}"]
        key = next((k for k in keys if k in self.mean), None)
        return None if key is None else (self.mean[key], self.std.get(key))


def _flat_numbers(d: Any) -> dict[str, float]:
    """A fold's metrics, whether given flat or under "metrics"; non-numbers are left out."""
    if not isinstance(d, dict):
        return {}
    inner = d.get("metrics")
    d = inner if isinstance(inner, dict) else d
    out = {}
    for k, v in d.items():
        x = number(v)
        if x is not None and k not in ("fold", "index"):
            out[str(k)] = x
    return out


def _by_split(metric: str) -> tuple[int, str]:
    """``source.test.accuracy`` sorts with its split (tests first); plain names come first."""
    return split_sort_key(metric.rsplit(".", 1)[0]) if metric.count(".") > 1 else (-1, "")


def cross_validation(run: RunFolder) -> CrossValidation | None:
    """cv.json's per-fold metrics with mean and std, and each fold run's own headline."""
    if run.cv is None:
        return None
    raw = run.cv.get("folds")
    folds = [_flat_numbers(f) for f in raw] if isinstance(raw, list) else []
    dirs = run.folds()
    if not folds:  # cv.json without per-fold rows: each fold's own evaluation
        folds = [_flat_numbers(d.splits.get(d.test_split or "")) for d in dirs]
    metrics = list(dict.fromkeys(k for f in folds for k in f))
    metrics.sort(key=_by_split)
    rows = []
    for i, values in enumerate(folds):
        row = FoldRow(f"fold-{i}", None, values)
        if i < len(dirs):
            fold = dirs[i]
            row.fold = fold.name
            if (fold.path / "report.html").is_file():
                row.link = f"folds/{fold.name}/report.html"
            row.headline, row.ci = fold.headline_value()
        rows.append(row)
    mean, std = _flat_numbers(run.cv.get("mean")), _flat_numbers(run.cv.get("std"))
    for m in metrics:  # cv.json normally holds both; recompute what it lacks
        vals = np.array([f[m] for f in folds if m in f])
        if m not in mean and len(vals):
            mean[m] = float(vals.mean())
        if m not in std and len(vals) > 1:
            std[m] = float(vals.std(ddof=1))
    return CrossValidation(metrics, rows, mean, std) if rows else None
