"""Report figures as inline SVG strings. Each function takes plain numbers and returns the SVG,
or None when there is nothing to draw, so the report simply leaves that figure out."""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")  # no display: reports are built in CI and on servers

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn import metrics as skm

MAX_CURVE_CLASSES = 10
MAX_ANNOTATED_CLASSES = 20
MAX_SCATTER_POINTS = 4000
_METADATA = ("Creator", "Date", "Format", "Type")  # left out: no dates, no URLs

_STYLE = {
    "svg.fonttype": "none",  # real <text>: smaller files, and the page's fonts
    "svg.hashsalt": "domainfit",  # the same run gives the same report, byte for byte
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element for an HTML page; the figure is closed."""
    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", metadata=dict.fromkeys(_METADATA))
    finally:
        plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    # HTML parses inline SVG without namespace declarations; dropping them keeps the page free
    # of URLs.
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    # Several SVGs share one document, so their ids (glyphs, clip paths) must not collide.
    prefix = "f" + hashlib.sha1(svg.encode()).hexdigest()[:8] + "-"
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    return svg.replace('href="#', f'href="#{prefix}').replace("url(#", f"url(#{prefix}")


P = ParamSpec("P")
R = TypeVar("R")


def _styled(fn: Callable[P, R]) -> Callable[P, R]:
    """Draw and save inside the report style, leaving the caller's matplotlib settings alone."""

    @wraps(fn)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(_STYLE):
            return fn(*args, **kwargs)

    return inner


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, Any]:
    return plt.subplots(1, ncols, figsize=(width, height), layout="constrained")


def _label(name: object) -> str:
    """User text (class, group and run names) drawn literally: a ``$`` would start mathtext, and
    a leading ``_`` would hide the entry from the legend."""
    text = str(name).replace("$", r"\$")
    return f" {text}" if text.startswith("_") else text


def _series(rows: Sequence[Mapping[str, Any]], key: str) -> np.ndarray:
    vals = []
    for r in rows:
        v = r.get(key)
        ok = isinstance(v, int | float) and not isinstance(v, bool)
        vals.append(float(v) if ok else math.nan)
    return np.asarray(vals, dtype=float)


def _x_axis(rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, str]:
    """Epochs when validations fall on different epochs, steps otherwise."""
    epochs = _series(rows, "epoch")
    if np.isfinite(epochs).all() and len(np.unique(epochs)) == len(epochs):
        return epochs, "epoch"
    return _series(rows, "step"), "step"


@_styled
def learning_curves(history: Sequence[Mapping[str, Any]]) -> str | None:
    """Train and validation loss per validation, and the validation metrics beside them."""
    if not history:
        return None
    x, xlabel = _x_axis(history)
    extra_losses = ("train.penalty", "train.domain_loss", "train.pseudo_loss")
    losses = [k for k in ("train.loss", "val.loss", *extra_losses) if k in history[0]]
    scores = sorted({k for r in history for k in r if k.startswith("val.") and k != "val.loss"})
    if not losses and not scores:
        return None
    panels = [(losses, "loss", "Loss"), (scores, "value", "Validation metrics")]
    panels = [p for p in panels if p[0]]
    fig, axes = _figure(3.4 * len(panels), 2.8, len(panels))
    for ax, (keys, ylabel, title) in zip(np.atleast_1d(axes), panels, strict=True):
        for key in keys:
            style = "--" if key in extra_losses else "-"
            ax.plot(x, _series(history, key), style, marker="o", markersize=3, label=key)
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend(fontsize=7)
    return to_svg(fig)


@_styled
def learning_rates(lr_rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Each layer group's learning rate over steps. A frozen group (lr 0) leaves a gap: the log
    scale cannot show zero, and a gap reads as "not training"."""
    if not lr_rows:
        return None
    groups = list(dict.fromkeys(g for r in lr_rows for g in r["lr"]))
    x = _series(lr_rows, "step")
    series = {g: _series([r["lr"] for r in lr_rows], g) for g in groups}
    if not any((v > 0).any() for v in series.values()):
        return None
    fig, ax = _figure(6.4, 3.0)
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(groups)))  # shallow → deep
    dashes = ["-", "--", "-.", ":"]  # groups that share a rate stay visible on top of each other
    for i, (color, g) in enumerate(zip(colors, groups, strict=True)):
        v = series[g]
        style = dashes[i % len(dashes)]
        ax.plot(x, np.where(v > 0, v, np.nan), style, color=color, label=_label(g), linewidth=1.4)
    ax.set_yscale("log")
    ax.set(title="Learning rate per layer group (gaps: frozen)", xlabel="step", ylabel="lr")
    ncol = 1 if len(groups) <= 12 else 2
    ax.legend(fontsize=6, ncol=ncol, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return to_svg(fig)


@_styled
def confusion_heatmap(
    matrix: Sequence[Sequence[float]], classes: Sequence[str], title: str
) -> str | None:
    """Colour is the share of each true class (so small classes show too); text is the count."""
    try:
        cm = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError):  # a ragged or non-numeric matrix: nothing sensible to draw
        return None
    n = len(classes)
    if cm.ndim != 2 or cm.shape != (n, n) or n == 0:
        return None
    share = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    side = min(max(3.0, 0.32 * n + 1.8), 12.0)
    fig, ax = _figure(side + 0.6, side)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.grid(False)
    ticks, size = np.arange(n), (9 if n <= 10 else 7)
    names = [_label(c) for c in classes]
    ax.set_xticks(ticks, names, rotation=45, ha="right", fontsize=size)
    ax.set_yticks(ticks, names, fontsize=size)
    if n <= MAX_ANNOTATED_CLASSES:
        for i, j in np.ndindex(n, n):
            color = "white" if share[i, j] > 0.5 else "black"
            ax.text(j, i, f"{cm[i, j]:.0f}", ha="center", va="center", color=color, fontsize=size)
    ax.set(title=title, xlabel="predicted", ylabel="true")
    fig.colorbar(im, ax=ax, shrink=0.8, label="share of true class")
    return to_svg(fig)


def _one_vs_rest(
    y: np.ndarray, proba: np.ndarray, classes: Sequence[str]
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(class, is-that-class, score) per drawable class: the positive class for binary tasks,
    else the largest classes, which need both positives and negatives to draw a curve."""
    y = np.asarray(y)
    if len(classes) == 2:
        candidates = [1]
    else:
        candidates = list(np.argsort(-np.bincount(y, minlength=len(classes)), kind="stable"))
    out = []
    for c in candidates:
        truth = y == c
        if truth.any() and not truth.all():
            out.append((_label(classes[c]), truth, np.asarray(proba)[:, c]))
        if len(out) == MAX_CURVE_CLASSES:
            break
    return out


@_styled
def roc_curves(y: np.ndarray, proba: np.ndarray, classes: Sequence[str], title: str) -> str | None:
    curves = _one_vs_rest(y, proba, classes)
    if not curves:
        return None
    fig, ax = _figure(3.6, 3.2)
    for name, truth, score in curves:
        fpr, tpr, _ = skm.roc_curve(truth, score)
        ax.plot(fpr, tpr, linewidth=1.3, label=f"{name} (AUC {skm.auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", linewidth=1)
    ax.set(title=title, xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(fontsize=6, loc="lower right")
    return to_svg(fig)


@_styled
def pr_curves(y: np.ndarray, proba: np.ndarray, classes: Sequence[str], title: str) -> str | None:
    curves = _one_vs_rest(y, proba, classes)
    if not curves:
        return None
    fig, ax = _figure(3.6, 3.2)
    for name, truth, score in curves:
        precision, recall, _ = skm.precision_recall_curve(truth, score)
        ap = skm.average_precision_score(truth, score)
        ax.plot(recall, precision, linewidth=1.3, label=f"{name} (AP {ap:.3f})")
    if len(curves) == 1:  # what a model with no skill scores
        ax.axhline(curves[0][1].mean(), linestyle=":", color="grey", linewidth=1)
    ax.set(title=title, xlabel="recall", ylabel="precision", ylim=(0, 1.02))
    ax.legend(fontsize=6, loc="lower left")
    return to_svg(fig)


@_styled
def regression_scatter(y: np.ndarray, pred: np.ndarray, title: str) -> str | None:
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    if len(y) == 0:
        return None
    if len(y) > MAX_SCATTER_POINTS:  # an even subsample keeps the SVG small
        keep = np.linspace(0, len(y) - 1, MAX_SCATTER_POINTS).astype(int)
        y, pred = y[keep], pred[keep]
    fig, ax = _figure(3.6, 3.4)
    ax.scatter(y, pred, s=6, alpha=0.5, linewidths=0)
    lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    ax.plot([lo, hi], [lo, hi], ":", color="grey", linewidth=1, label="perfect")
    ax.set(title=title, xlabel="true value", ylabel="predicted value")
    ax.legend(fontsize=7, loc="upper left")
    return to_svg(fig)


@_styled
def validation_overlay(
    histories: Mapping[str, Sequence[Mapping[str, Any]]], metric: str
) -> str | None:
    """Several runs' validation loss and ``metric`` (e.g. ``val.accuracy``) on shared axes."""
    runs = {name: rows for name, rows in histories.items() if rows}
    if not runs:
        return None
    fig, axes = _figure(7.0, 3.0, 2)
    xlabels = set()
    for name, rows in runs.items():
        x, xlabel = _x_axis(rows)
        xlabels.add(xlabel)
        for ax, key in zip(axes, ("val.loss", metric), strict=True):
            y = _series(rows, key)
            ax.plot(x, y, marker="o", markersize=3, linewidth=1.2, label=_label(name))
    xlabel = xlabels.pop() if len(xlabels) == 1 else "epoch or step"
    axes[0].set(title="Validation loss", xlabel=xlabel, ylabel="loss")
    axes[1].set(title=f"Validation {metric.removeprefix('val.')}", xlabel=xlabel, ylabel="value")
    axes[1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return to_svg(fig)
