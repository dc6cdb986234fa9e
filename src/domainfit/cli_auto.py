"""``domainfit auto``: the whole adaptation experiment in one command, under a compute budget."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domainfit.cli import QuietOpt, SetOpt, app
from domainfit.lazy import lazy_module
from domainfit.progress import silenced

api = lazy_module("domainfit.api")


@app.command()
def auto(
    source: Annotated[
        str | None, typer.Argument(help="Source data: a file, folder or named set (or a .yaml).")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Target-domain data to adapt to (unlabelled is fine).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Label column.")] = None,
    text: Annotated[str | None, typer.Option(help="Text column.")] = None,
    budget: Annotated[
        str, typer.Option(help="Wall time for everything: 90s, 30m, 1h, 1h30m.")
    ] = "30m",
    models: Annotated[
        list[str] | None,
        typer.Option("--models", help="More candidate models, e.g. hf:PATH (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Experiment folder (default runs/auto-<source>-<time>); rerun to resume."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="A run config whose data and model sections are the base.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the decisions and the plan; train nothing.")
    ] = False,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Audit, plan, train and choose under a time budget; then baselines, diagnosis, export.

    Tries the linear probe, fine-tuning strategies and (with --target) adaptation methods, chooses
    without target labels, and writes auto.html, auto.json, winner.yaml and model/ to --out.
    Example: domainfit auto amazon-reviews:kitchen --target amazon-reviews:books --budget 30m
    """
    started = time.monotonic()  # the budget counts loading the libraries too
    with silenced(quiet):
        result = api.auto(
            source,
            target=target,
            label=label,
            text=text,
            budget=budget,
            models=list(models or []),
            out=out,
            dry_run=dry_run,
            config=config,
            overrides=list(set_ or []),
            started=started,
        )
    if quiet:
        return
    console = Console(highlight=False)
    if result.dry_run:
        _print_decisions(console, result.decisions)
        _print_plan(console, result)
        return
    _print_leaderboard(console, result)
    for name, path in result.files.items():
        console.print(f"{name:<12}{escape(str(path))}")
    console.print(f"resume or repeat: domainfit auto ... --out {escape(str(result.dir))}")


def _print_decisions(console: Console, decisions: list[dict[str, Any]]) -> None:
    table = Table(title="Decisions", title_justify="left")
    for col in ("setting", "value", "why"):
        table.add_column(col)
    for d in decisions:
        table.add_row(escape(d["setting"]), escape(str(d["value"])), escape(d["why"]))
    console.print(table)


def _print_plan(console: Console, result: Any) -> None:
    from domainfit.auto.budget import duration

    table = Table(title=f"Plan for a budget of {duration(result.budget)}", title_justify="left")
    for col in ("step", "model", "strategy / method", "epochs", "estimated", "cumulative", "note"):
        table.add_column(
            col, justify="right" if col in ("epochs", "estimated", "cumulative") else "left"
        )
    total = 0.0
    for r in result.steps:
        est = r.get("estimate")
        planned = r["status"] == "planned"
        total += est if planned and est else 0.0
        note = r["note"] if planned else f"{r['status']}: {r['note']}".rstrip(": ")
        table.add_row(
            escape(r["id"]),
            escape(r["model"] or "(best)"),
            escape(r["title"]),
            str(r["epochs"] or ""),
            duration(est) if est is not None else "",
            duration(total) if planned else "",
            escape(note),
            style=None if planned else "dim",
        )
    total += result.reserve
    table.add_row(
        "final",
        "",
        "baselines, diagnose, export",
        "",
        duration(result.reserve),
        duration(total),
        "",
    )
    console.print(table)
    console.print("dry run: nothing trained, nothing written")


def _print_leaderboard(console: Console, result: Any) -> None:
    from domainfit.auto.budget import duration
    from domainfit.auto.priors import SELECT
    from domainfit.report import fmt

    target = any("target.test" in r["scores"] for r in result.leaderboard)
    table = Table(
        title=f"auto: {len(result.leaderboard)} steps in {duration(result.seconds)} "
        f"(budget {duration(result.budget)})",
        title_justify="left",
    )
    table.add_column("step")
    table.add_column("what")
    for col in ("source val", "source test [95% CI]"):
        table.add_column(col, justify="right")
    if target:
        table.add_column("target test [95% CI]", justify="right")
        table.add_column(f"{SELECT} (label-free)", justify="right")
    table.add_column("time", justify="right")
    winner = (result.winner or {}).get("id")
    for r in result.leaderboard:
        s = r["scores"]
        cells = [
            escape(r["id"] + (" *" if r["id"] == winner else "")),
            escape(r["title"]),
            fmt.num(s.get("source.val")),
            fmt.with_ci(s.get("source.test"), s.get("source.test.ci")),
        ]
        if target:
            cells.append(fmt.with_ci(s.get("target.test"), s.get("target.test.ci")))
            cells.append(fmt.num(s.get(SELECT), 4))
        cells.append(duration(r.get("seconds") or 0))
        table.add_row(*cells, style="bold" if r["id"] == winner else None)
    table.caption = "* the winner, chosen by " + result.selection["metric"]
    console.print(table)
