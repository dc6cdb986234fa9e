"""Commands that use finished runs and this installation: predict, export, runs, ui, demo,
datasets. Importing this module registers them on ``domainfit.cli.app``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domainfit.cli import JsonOpt, QuietOpt, app
from domainfit.errors import ConfigError
from domainfit.io_utils import write_json_atomic


@app.command()
def predict(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    data: Annotated[
        str, typer.Argument(help="Data to predict (file, folder, named set; - : stdin lines).")
    ],
    out: Annotated[Path, typer.Option(help="CSV of predictions and class probabilities.")] = Path(
        "predictions.csv"
    ),
    text: Annotated[
        str | None, typer.Option(help="Text column of DATA (default: training's).")
    ] = None,
    id_: Annotated[
        str | None, typer.Option("--id", help="Id column of DATA (default: 'id' if present).")
    ] = None,
    header: Annotated[
        str | None, typer.Option(help="auto, first_row or none (DATA has no header row).")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Apply a run's model (with its saved preprocessing) to new data; labels are optional.

    Example: domainfit predict runs/demo-full new_reviews.csv --out preds.csv
    (or: cat reviews.txt | domainfit predict runs/demo-full - --out preds.csv)
    """
    from domainfit.inference import predict_file
    from domainfit.predict_input import stdin_texts

    if data == "-":
        if text or id_ or header:
            raise ConfigError("stdin has no columns for --text, --id or --header", "leave them out")
        texts, ids = stdin_texts(sys.stdin)
        frame = predict_file(run_dir, texts, out, ids=ids)
    else:
        frame = predict_file(run_dir, data, out, text=text, id=id_, header=header)
    if not quiet:
        Console().print(f"{len(frame)} predictions written to {out}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    format_: Annotated[str, typer.Option("--format", help="onnx or safetensors.")] = "onnx",
    out: Annotated[
        Path | None, typer.Option(help="Export folder (default RUN_DIR/export).")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Write the model with what inference needs (weights, classes, config, tokenizer).

    Example: domainfit export runs/demo-full --format onnx
    """
    from domainfit.export import export_run

    if format_ not in ("onnx", "safetensors"):
        raise ConfigError(f"--format {format_!r} is not supported", "use onnx or safetensors")
    folder = export_run(run_dir, format_, out or run_dir / "export")
    if not quiet:
        Console().print(f"exported to {folder}", markup=False)


@app.command()
def runs(
    uri: Annotated[str, typer.Option(help="MLflow tracking URI.")] = "sqlite:///runs/mlflow.db",
    experiment: Annotated[str, typer.Option(help="MLflow experiment.")] = "domainfit",
    limit: Annotated[int, typer.Option(help="How many recent runs.")] = 20,
    json_path: JsonOpt = None,
) -> None:
    """List tracked runs, newest first, with their headline metrics.

    Example: domainfit runs --limit 5
    """
    from domainfit.track.runs import list_runs

    rows = list_runs(uri, experiment, limit)
    if json_path is not None:
        write_json_atomic(json_path, rows)
    table = Table(title=escape(f"Runs in {uri} ({experiment})"), title_justify="left")
    for col in ("name", "status", "approach", "backbone", "val acc", "test acc", "size"):
        table.add_column(col, overflow="fold", justify="right" if col == "size" else "left")
    table.add_column("run folder", overflow="fold")
    for r in rows:
        fmt = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
        test = fmt(r["test_accuracy"]) + (f" ({r['test_split']})" if r["test_split"] else "")
        table.add_row(
            escape(r["name"]),
            r["status"],
            escape(r["approach"]),
            escape(r["backbone"]),
            fmt(r["val_accuracy"]),
            test,
            "gone" if r["bytes"] is None else f"{r['bytes'] / 2**20:.1f} MiB",
            escape(r["run_dir"]),
        )
    total = sum(r["bytes"] or 0 for r in rows)
    table.caption = f"{total / 2**20:.1f} MiB in these run folders"
    Console().print(table)


@app.command()
def ui(
    uri: Annotated[str, typer.Option(help="MLflow tracking URI.")] = "sqlite:///runs/mlflow.db",
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 5000,
) -> None:
    """Start MLflow's web UI on 127.0.0.1 (local only) over the tracked runs.

    Example: domainfit ui --port 5000
    """
    import subprocess

    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    Console().print(f"MLflow UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(cmd))


@app.command()
def demo(
    quick: Annotated[
        bool,
        typer.Option(help="A 600-review subset, shorter texts (images: 700 per domain, 128 px)."),
    ] = False,
    images: Annotated[
        bool,
        typer.Option(
            help="EfficientNet-Lite0 from PACS photos to art paintings: linear probe vs two_stage."
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Folder for the two runs.")] = None,
) -> None:
    """MiniLM on Amazon kitchen reviews: frozen-backbone head vs full fine-tuning. With
    --images: an ImageNet CNN taken from PACS photos to art paintings, head vs two_stage.

    Example: domainfit demo --quick
    """
    from domainfit.demo import IMAGE_DEMO, TEXT_DEMO, compare_on_test, default_demo_root, run_demo

    start = time.perf_counter()
    spec = IMAGE_DEMO if images else TEXT_DEMO
    runs = run_demo(quick, out or default_demo_root(images), images=images)
    table = Table(title=spec.title, title_justify="left")
    headers = [header for header, _ in spec.columns]
    for col in ("approach", *headers, "seconds", "run folder"):
        left = col in ("approach", "run folder")
        table.add_column(col, justify="left" if left else "right", overflow="fold")
    for name, run in runs.items():
        m = run.metrics
        scores = [f"{m[key]:.3f}" for _, key in spec.columns]
        table.add_row(escape(name), *scores, f"{run.seconds:.0f}", escape(str(run.dir)))
    Console().print(table)
    main, base = runs[spec.main].dir, runs[spec.baseline].dir
    Console().print(compare_on_test(main, base, spec.main, spec.baseline), markup=False)
    Console().print(f"report {main / 'report.html'} (against the probe)", markup=False)
    Console().print(f"total {time.perf_counter() - start:.0f} s")


@app.command()
def datasets(json_path: JsonOpt = None) -> None:
    """List the named public data sets, verifying each against the data root's SHA256SUMS.

    Example: DOMAINFIT_DATA=../shared/data domainfit datasets
    """
    from domainfit.data.benchmarks import check_named
    from domainfit.paths import data_root

    rows = check_named()
    if json_path is not None:
        write_json_atomic(json_path, {"data_root": str(data_root()), "sets": rows})
    table = Table(title=escape(f"Named data sets in {data_root()}"), title_justify="left")
    for col in ("name", "kind", "description", "status"):
        table.add_column(col, overflow="fold")
    for r in rows:
        status = "[green]ok[/]" if r["status"] == "ok" else f"[red]{r['status']}[/]"
        table.add_row(escape(r["name"]), r["kind"], escape(r["description"]), status)
    Console().print(table)
