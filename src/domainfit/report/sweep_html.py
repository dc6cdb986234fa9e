"""``sweep.html``: a sweep's leaderboard, history, importances and best config, in one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainfit.io_utils import write_text_atomic
from domainfit.report import sweep_plots
from domainfit.report.html import _render
from domainfit.report.sections import plot

MAX_ROWS = 200


def write_sweep_report(out_dir: Path, summary: dict[str, Any], rows: list[dict[str, Any]]) -> Path:
    maximize = summary["direction"] == "maximize"
    figures = [
        *plot(
            "history",
            "Each finished trial's value (dots), the best so far (line), and where pruned "
            "trials stood when they were stopped (crosses).",
            sweep_plots.optimisation_history(rows, maximize),
        ),
        *plot(
            "curves",
            "The value the pruner watched at each validation of each trial; pruned trials "
            "stop early, which is the compute they saved.",
            sweep_plots.trial_curves(rows, "pruning metric"),
        ),
        *plot(
            "importances",
            "How much of the variation in the value each parameter explains (Optuna's "
            "importance evaluator, over finished trials).",
            sweep_plots.importance_bars(summary["importances"]),
        ),
    ]
    names = sorted({k for r in rows for k in r["params"]})
    best_yaml = out_dir / "best.yaml"
    html = _render(
        "sweep.html.j2",
        name=out_dir.name,
        summary=summary,
        rows=rows[:MAX_ROWS],
        hidden=max(0, len(rows) - MAX_ROWS),
        names=names,
        figures=figures,
        best_yaml=best_yaml.read_text(encoding="utf-8") if best_yaml.is_file() else None,
        best_path=best_yaml,
    )
    out = out_dir / "sweep.html"
    write_text_atomic(out, html)
    return out
