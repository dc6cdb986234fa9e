"""The ``domainfit`` command: a thin shell over ``domainfit.api``."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domainfit.console import render_audit, render_evaluation
from domainfit.errors import DomainfitError
from domainfit.io_utils import write_json_atomic
from domainfit.lazy import lazy_module
from domainfit.progress import silenced

api = lazy_module("domainfit.api")  # loaded by the first command that needs it, not by --help
app = typer.Typer(
    help="Adapt pretrained models to your domain's data, and learn why it works or fails.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)
LOG_WIDTH = 160  # columns of the tables written to a pipe or a file
_PACKAGE = Path(__file__).parent  # warnings raised from here are domainfit's own advice

SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a config value, e.g. --set split.seed=1 (repeatable)."),
]
JsonOpt = Annotated[
    Path | None, typer.Option("--json", help="Also write the results as JSON to this path.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]


@app.callback()
def _root() -> None:
    """domainfit: audit and prepare data, fit, inspect, lr-find, predict, export, track."""


def _is_config(arg: str) -> bool:
    return arg.lower().endswith((".yaml", ".yml"))


@app.command()
def audit(
    data: Annotated[str, typer.Argument(help="A run config (.yaml) or one data spec.")],
    target: Annotated[
        str | None, typer.Option(help="Target-domain data spec (file or named set).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Label column of a spec.")] = None,
    text: Annotated[str | None, typer.Option(help="Text column of a spec.")] = None,
    header: Annotated[
        str | None, typer.Option(help="none: a spec's file has no header row (columns 0, 1, ...).")
    ] = None,
    set_: SetOpt = None,
    json_path: JsonOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Report data problems with exact counts: duplicates, missing values, leakage, ...

    Example: domainfit audit amazon-reviews:kitchen --json audit.json
    """
    overrides = list(set_ or [])
    for key, value in (("label", label), ("text", text), ("header", header)):
        if value is not None:
            overrides.append(f"data.source.{key}={value}")
    if _is_config(data):
        report = api.audit(data, target=target, overrides=overrides)
    else:
        report = api.audit(source=data, target=target, overrides=overrides)
    if json_path is not None:
        write_json_atomic(json_path, report.to_dict())
    if not quiet:
        render_audit(report, Console())
        if json_path is not None:
            Console().print(f"JSON written to {json_path}", markup=False)


@app.command()
def prepare(
    config: Annotated[Path, typer.Argument(help="A run config (.yaml).")],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default runs/<name>-<time>).")
    ] = None,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Clean, split, and fit preprocessing and feature selection on the training split.

    Refuses data that cannot train (unreadable files, a single class, empty columns).
    Example: domainfit prepare examples/tabular_time.yaml --out runs/sensors
    """
    run = api.prepare(config, out, overrides=list(set_ or []))
    if not quiet:
        console = Console()
        render_audit(run.audit, console)
        console.print(f"prepared data written to {run.dir}", markup=False)


@app.command()
def fit(
    config: Annotated[Path | None, typer.Argument(help="A run config (.yaml).")] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue this stopped run from its last checkpoint.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run folder (default runs/<name>-<time>).")
    ] = None,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Train a pretrained backbone with a new head on the source domain; evaluate on every split.

    Example: domainfit fit examples/reviews_minilm.yaml --set train.epochs=1
    """
    from domainfit.progress import say

    with silenced(quiet or os.environ.get("RANK", "0") != "0"):
        # PyTorch and the model libraries take seconds to import: say so before they do
        say(f"fit {config or resume}: loading PyTorch and the model libraries")
    from domainfit.train import distributed

    with silenced(quiet):
        run = api.fit(config, overrides=list(set_ or []), resume=resume, out=out)
    if not quiet and distributed.is_main():  # one summary, from the rank that wrote the run
        _print_run(run.dir, run.seconds, run.metrics)


def _print_run(run_dir: Path, seconds: float, metrics: dict[str, float]) -> None:
    console = Console()
    if (run_dir / "cv.json").is_file():
        table = Table(title=f"k-fold run, mean ± std over folds ({seconds:.0f} s)")
        table.add_column("metric")
        table.add_column("mean ± std", justify="right")
        for key in sorted(k for k in metrics if not k.endswith(".std")):
            if key.endswith((".accuracy", ".f1_macro", ".roc_auc", ".rmse", ".mae", ".loss")):
                table.add_row(key, f"{metrics[key]:.4f} ± {metrics.get(key + '.std', 0.0):.4f}")
        console.print(table)
    else:
        splits = api.evaluate(run_dir)
        render_evaluation(splits, console, title=f"Evaluation ({seconds:.0f} s)")
    console.print(f"run folder {run_dir}", markup=False)
    if (run_dir / "report.html").is_file():
        console.print(f"report     {run_dir / 'report.html'}", markup=False)


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    data: Annotated[
        str | None,
        typer.Option(help="Labelled data to evaluate on (default: the run's own splits)."),
    ] = None,
    json_path: JsonOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Metrics with 95% bootstrap confidence intervals, on the run's splits or on new data.

    Example: domainfit evaluate runs/demo-full --data amazon-reviews:books
    """
    with silenced(quiet):
        splits = api.evaluate(run_dir, data)
    if json_path is not None:
        write_json_atomic(json_path, splits)
    if not quiet:
        render_evaluation(splits, Console(), title=f"Evaluation of {run_dir}")


@app.command()
def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="One run folder, or several to compare.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Comparison page (default compare.html); one run: RUN/report.html."),
    ] = None,
    baseline: Annotated[
        list[Path] | None,
        typer.Option(help="With one run: compare it against this run (repeatable)."),
    ] = None,
) -> None:
    """Write the HTML report of a run, or a leaderboard comparing several (plus markdown).

    Examples: domainfit report runs/demo/full --baseline runs/demo/linear_probe
              domainfit report runs/a runs/b runs/c --out compare.html
    """
    from domainfit.report import write_compare_report, write_run_report

    for d in [*run_dirs, *(baseline or [])]:
        if not (d / "config.yaml").is_file():
            raise DomainfitError(f"{d} is not a run folder (no config.yaml)", "check the path")
    if len(run_dirs) == 1 and out is None:
        path = write_run_report(run_dirs[0], baselines=list(baseline or []))
        Console().print(f"report {path}", markup=False)
        return
    files = write_compare_report(run_dirs, out or Path("compare.html"))
    console = Console(highlight=False)
    for line in files.verdicts:
        console.print(line, markup=False)
    console.print(f"comparison {files.html}\nmarkdown   {files.markdown}", markup=False)


@app.command()
def inspect(
    config: Annotated[Path, typer.Argument(help="A run config (.yaml) with a model section.")],
    set_: SetOpt = None,
    json_path: JsonOpt = None,
) -> None:
    """Show the plan: each layer group, its size, and per epoch whether it trains and at which
    learning rate ("-": frozen).

    Example: domainfit inspect examples/reviews_minilm.yaml --set strategy.name=two_stage
    """
    rows, start = api.inspect_with_start(config, overrides=list(set_ or []))
    _print_start(start)
    if json_path is not None:
        write_json_atomic(json_path, rows)
    table = Table(title="Layer groups, shallow to deep", title_justify="left")
    table.add_column("group")
    table.add_column("parameters", justify="right")
    spans = _epoch_spans([r["epochs"] for r in rows])
    for first, last in spans:  # epochs with the same plan share a column
        label = f"epoch {first + 1}" if first == last else f"epochs {first + 1}-{last + 1}"
        table.add_column(label, justify="right")
    for r in rows:
        cells = [r["epochs"][first] for first, _ in spans]
        lrs = [f"{lr:.3g}" if lr is not None else "[dim]-[/]" for lr in cells]
        table.add_row(escape(r["group"]), f"{r['params']:,}", *lrs)
    total = sum(r["params"] for r in rows)
    trained = sum(r["params"] for r in rows if r["trains"])
    table.caption = (
        f"{trained:,} of {total:,} parameters train; learning rates before train.schedule"
    )
    Console().print(table)


def _print_start(start: dict[str, Any]) -> None:
    """The weights the backbone starts from and how its images are prepared."""
    console = Console()
    source = start["weights_source"] or "random initialisation"
    console.print(f"backbone  {escape(start['backbone'])}", highlight=False)
    weights = escape(source) + (" (pretrained weights were meant)" if start["random_start"] else "")
    console.print(
        f"weights   [bold yellow]{weights}[/]" if start["random_start"] else f"weights   {weights}"
    )
    inputs = start.get("image_inputs")
    if inputs:
        crop = (
            "whole image resized"
            if inputs["crop_pct"] >= 1
            else f"shorter side to {round(inputs['size'] / inputs['crop_pct'])}, centre crop"
        )
        console.print(
            escape(
                f"inputs    {inputs['size']} px ({crop}, {inputs['interpolation']}), "
                f"mean {list(inputs['mean'])}, std {list(inputs['std'])}; from {inputs['source']}"
            ),
            highlight=False,
        )


def _epoch_spans(per_group: list[list[float | None]]) -> list[tuple[int, int]]:
    """(first, last) epoch ranges over which no group's learning rate changes."""
    n = len(per_group[0]) if per_group else 0
    spans: list[tuple[int, int]] = []
    for e in range(n):
        if spans and all(lrs[e] == lrs[spans[-1][0]] for lrs in per_group):
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((e, e))
    return spans


@app.command("lr-find")
def lr_find(
    config: Annotated[Path | None, typer.Argument(help="A run config (.yaml).")] = None,
    run: Annotated[
        Path | None,
        typer.Option(
            help="Start from this run's weights and config: its final model, or its last "
            "checkpoint if it has not finished."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for lr_find.png/.json (default RUN/lr_find or runs/...)."),
    ] = None,
    start: Annotated[float, typer.Option(help="First learning rate of the sweep.")] = 1e-7,
    end: Annotated[float, typer.Option(help="Last learning rate of the sweep.")] = 1.0,
    steps: Annotated[int, typer.Option(help="Optimizer steps (one learning rate each).")] = 100,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Learning-rate range test: train briefly while the rate grows, plot the loss, suggest one.

    The suggestion is where the smoothed loss falls fastest; the model is left untouched.
    Example: domainfit lr-find examples/reviews_minilm.yaml --steps 50
    """
    with silenced(quiet):
        found = api.lr_find(
            config,
            overrides=list(set_ or []),
            run=run,
            out=out,
            start=start,
            end=end,
            steps=steps,
        )
    if not quiet:
        r = found.result
        console = Console(highlight=False)
        stop = "stopped when the loss diverged" if r.diverged else "no divergence in range"
        console.print(
            f"swept {len(r.lrs)} steps from {r.start:.1e} to {r.lrs[-1]:.1e} ({stop}); "
            f"started from {escape(str(found.weights))}"
        )
        how = "steepest fall of the smoothed loss" if r.rule == "steepest" else r.rule
        console.print(f"suggested learning rate [bold]{r.suggestion:.1e}[/] ({how})")
        console.print(f"  --set train.lr={r.suggestion:.1e}")
        console.print(
            f"plot {found.dir / 'lr_find.png'}, values {found.dir / 'lr_find.json'}", markup=False
        )


# the other commands live in their own modules; importing them registers them on ``app``
from domainfit import cli_runs  # noqa: E402, F401, I001  (first: the order of --help)
from domainfit import cli_analysis, cli_auto, cli_sweep  # noqa: E402, F401


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors -> one line and exit 2; internal errors -> exit 1 and a log."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    # formatwarning, not showwarning: pytest.warns and other recorders keep seeing the warnings
    formatted_before, warnings.formatwarning = warnings.formatwarning, _format_warning
    # a log file has no width: rich would fold tables into 80 columns, names 3 letters wide
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    if wide:
        os.environ["COLUMNS"] = str(LOG_WIDTH)
    try:
        return _run(args, debug)
    finally:
        warnings.formatwarning = formatted_before
        if wide:
            os.environ.pop("COLUMNS", None)


def _run(args: list[str], debug: bool) -> int:
    try:
        code = app(args=args, prog_name="domainfit", standalone_mode=False)
    except DomainfitError as err:
        if debug:
            traceback.print_exc()
        err_console.print(
            f"[bold red]error:[/] {escape(err.line())}", highlight=False, soft_wrap=True
        )
        return 2
    except (KeyboardInterrupt, typer.Abort):
        err_console.print("interrupted")
        return 130
    except Exception as err:
        if hasattr(err, "show") and hasattr(err, "exit_code"):  # click's usage errors
            err.show()
            return int(err.exit_code)
        if debug:
            traceback.print_exc()
        return _internal_error(err)
    return code if isinstance(code, int) else 0


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """domainfit's own warnings are advice for the user: one plain line, not a source location."""
    if category.__module__.startswith("domainfit.") or Path(filename).is_relative_to(_PACKAGE):
        return f"warning: {message}\n"
    return warnings._formatwarning_orig(message, category, filename, lineno, line)  # type: ignore[attr-defined]


def _internal_error(err: Exception) -> int:
    with tempfile.NamedTemporaryFile(
        "w", prefix="domainfit-error-", suffix=".log", delete=False
    ) as fh:
        traceback.print_exc(file=fh)
    err_console.print(
        f"[bold red]internal error:[/] {type(err).__name__}: {escape(str(err))}\n"
        f"traceback written to {fh.name}; rerun with --debug to see it here",
        highlight=False,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
