"""Figures of a sweep: its optimisation history, each trial's validation curve (where pruning
cut trials short), and the parameters' importances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from domainfit.report.plots import _figure, _label, _styled, to_svg

_COLOURS = {"complete": "#0969da", "pruned": "#bf8700", "failed": "#cf222e"}


@_styled
def optimisation_history(rows: Sequence[Mapping[str, Any]], maximize: bool) -> str | None:
    """Each finished trial's value by trial number, the best so far as a step line."""
    done = sorted((r for r in rows if r["value"] is not None), key=lambda r: r["trial"])
    if not done:
        return None
    x = np.array([r["trial"] for r in done], dtype=float)
    y = np.array([r["value"] for r in done], dtype=float)
    best = np.maximum.accumulate(y) if maximize else np.minimum.accumulate(y)
    fig, ax = _figure(4.6, 2.8)
    ax.scatter(x, y, s=14, color=_COLOURS["complete"], label="trial value", zorder=3)
    ax.step(x, best, where="post", color="#1a7f37", label="best so far")
    pruned = [r for r in rows if r["state"] == "pruned" and r["last_reported"] is not None]
    if pruned:
        ax.scatter(
            [r["trial"] for r in pruned],
            [abs(r["last_reported"]) for r in pruned],
            s=14,
            marker="x",
            color=_COLOURS["pruned"],
            label="pruned (last validation)",
        )
    ax.set(title="Optimisation history", xlabel="trial", ylabel="value")
    ax.legend(fontsize=7)
    return to_svg(fig)


@_styled
def trial_curves(rows: Sequence[Mapping[str, Any]], label: str) -> str | None:
    """The pruning metric at each validation of each trial: pruned ones stop early."""
    drawn = [r for r in rows if r["curve"]]
    if not drawn:
        return None
    fig, ax = _figure(4.6, 2.8)
    for r in drawn:
        y = np.abs(np.asarray(r["curve"], dtype=float))  # losses were negated for the pruner
        colour = _COLOURS.get(r["state"], "#59636e")
        ax.plot(np.arange(1, len(y) + 1), y, color=colour, alpha=0.6, linewidth=1, marker=".")
    for state, colour in _COLOURS.items():
        if any(r["state"] == state for r in drawn):
            ax.plot([], [], color=colour, label=state)
    ax.set(title="Trials' validation curves", xlabel="validation", ylabel=_label(label))
    ax.legend(fontsize=7)
    return to_svg(fig)


@_styled
def importance_bars(importances: Mapping[str, float]) -> str | None:
    if not importances:
        return None
    names = list(importances)[::-1]
    fig, ax = _figure(4.6, 0.5 + 0.35 * len(names))
    ax.barh([_label(n) for n in names], [importances[n] for n in names], color="#0969da")
    ax.set(title="Parameter importance", xlabel="share of the value's variance")
    ax.grid(axis="y", visible=False)
    return to_svg(fig)
