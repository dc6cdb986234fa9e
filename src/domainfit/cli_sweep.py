"""``domainfit sweep``: strategy and hyperparameter search."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domainfit.cli import QuietOpt, SetOpt, app
from domainfit.lazy import lazy_module

api = lazy_module("domainfit.api")


@app.command()
def sweep(
    config: Annotated[Path, typer.Argument(help="A run config with a sweep section.")],
    trials: Annotated[
        int | None, typer.Option(help="Trials in all, over every worker (default sweep.trials).")
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Optuna database URL shared by workers, e.g. postgresql://user@host/db "
            "(default: SQLite in the sweep folder)."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes on the storage.")] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Sweep folder (default runs/sweep-<name>).")
    ] = None,
    report_only: Annotated[
        bool, typer.Option("--report-only", help="Write the summary from the storage; run nothing.")
    ] = False,
    worker_index: Annotated[int | None, typer.Option(hidden=True)] = None,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Search strategies and hyperparameters with Optuna (TPE, random or grid; pruning).

    Run the same command again to resume. Example: domainfit sweep examples/sweep_reviews.yaml
    --trials 24
    """
    result = api.sweep(
        config,
        trials=trials,
        storage=storage,
        workers=workers,
        out=out,
        overrides=list(set_ or []),
        worker_index=worker_index,
        report_only=report_only,
        quiet=quiet,
    )
    if result is None or quiet:
        return
    console = Console()
    table = Table(title=escape(f"Sweep {result.dir.name} ({result.seconds:.0f} s)"))
    table.add_column("")
    table.add_column("")
    c = result.counts
    table.add_row("trials", f"{c['complete']} complete, {c['pruned']} pruned, {c['failed']} failed")
    if result.best_value is not None:
        table.add_row(f"best {result.metric}", f"{result.best_value:.4f}")
        for name, value in result.best_params.items():
            table.add_row(
                f"  {escape(name)}",
                f"{value:.4g}" if isinstance(value, float) else escape(str(value)),
            )
    console.print(table)
    if result.best_config is not None:
        console.print(
            f"best config {result.best_config}  (domainfit fit {result.best_config})", markup=False
        )
    console.print(f"report      {result.report}", markup=False)
