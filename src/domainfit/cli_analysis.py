"""CLI commands that analyse rather than train: classic alignment, ranking, diagnosis."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from domainfit.cli import JsonOpt, QuietOpt, SetOpt, app
from domainfit.errors import ConfigError
from domainfit.io_utils import write_json_atomic
from domainfit.lazy import lazy_module
from domainfit.progress import silenced

api = lazy_module("domainfit.api")


def _align_epilog() -> str:
    """Every method's parameters with defaults and paper names (built from the signatures)."""
    from domainfit.classic_params import params_help

    lines = [
        "Method parameters (--param NAME=VALUE; default, paper name):",
        *params_help().split("\n"),
    ]
    return "\n\n".join(lines)


@app.command(epilog=_align_epilog())
def align(
    config: Annotated[Path, typer.Argument(help="A config with data.source and data.target.")],
    method: Annotated[
        str, typer.Option(help="none, coral, sa, tca, jda, gfk or pca (see below).")
    ] = "jda",
    classifier: Annotated[str, typer.Option(help="1nn, logreg or svm.")] = "1nn",
    c: Annotated[float, typer.Option(help="Inverse regularisation of logreg/svm.")] = 1.0,
    protocol: Annotated[
        str,
        typer.Option(
            help="Feature preprocessing: auto (the published one for a named data set, else "
            "each), office (rows to unit sum + z-score per domain: Office-Caltech SURF/DeCAF), "
            "digits (alias jda, coil, l2: rows to unit L2 norm: MNIST-USPS, COIL), each "
            "(z-score per domain), joint (z-score on source+target), none, or ROW+COLUMN "
            "(ROW none/l2/sum, COLUMN none/zscore/joint). A config preprocess: section "
            "replaces it."
        ),
    ] = "auto",
    preprocess: Annotated[
        str | None, typer.Option(hidden=True, help="Former name of --protocol.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(help="A method parameter, e.g. --param dim=100 (repeatable; see below)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
    set_: SetOpt = None,
    json_path: JsonOpt = None,
) -> None:
    """Classic feature-level adaptation then a classifier, for feature data (no training loop).

    Example: domainfit align examples/office_amazon_to_webcam.yaml --method jda --param lam=1
    """
    import yaml

    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {item!r} is not name=value", "e.g. --param dim=100")
        params[key] = yaml.safe_load(value)
    out = out or Path("runs") / f"align-{method}-{time.strftime('%Y%m%d-%H%M%S')}"
    result = api.align(
        config,
        method=method,
        out=out,
        classifier=classifier,
        c=c,
        protocol=protocol,
        preprocess=preprocess,
        params=params,
        overrides=list(set_ or []),
    )
    if json_path is not None:
        write_json_atomic(json_path, result.summary)
    s = result.summary
    line = f"{s['method']} + {s['classifier']}: {s['source']} -> {s['target']}"
    if "accuracy" in s:
        low, high = s["accuracy_ci"] or (float("nan"), float("nan"))
        line += f", target accuracy {100 * s['accuracy']:.2f}% [{100 * low:.1f}-{100 * high:.1f}]"
    line += f" (protocol {s['protocol']['name']})"
    Console().print(line, markup=False)
    for note in s.get("notes", []):
        Console().print(f"note: {note}", markup=False)
    Console().print(f"folder {result.dir}", markup=False)


@app.command()
def rank(
    config: Annotated[str, typer.Argument(help="Run config (YAML) naming the data.")],
    candidate: Annotated[
        list[str] | None,
        typer.Option(
            "--candidate", "-c", help="A candidate (repeatable); replaces rank.candidates."
        ),
    ] = None,
    json_path: JsonOpt = None,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Which pretrained model suits this data? LogME, H-score, k-NN and linear-probe accuracy
    (LEEP and NCE for run: candidates), with each candidate's cost on this machine.

    Example: domainfit rank examples/reviews_minilm.yaml -c minilm -c 'minilm#3'
    """
    from domainfit.console import render_ranking

    with silenced(quiet):
        result = api.rank(config, candidates=list(candidate or []), overrides=list(set_ or []))
    if json_path is not None:
        write_json_atomic(json_path, result.to_dict())
    if not quiet:
        render_ranking(result, Console(highlight=False))


@app.command()
def diagnose(
    config: Annotated[
        str | None, typer.Argument(help="Run config (YAML); default: the run's own config.")
    ] = None,
    run: Annotated[
        Path | None, typer.Option("--run", help="A run folder: adds the training checks.")
    ] = None,
    check_resume: Annotated[
        bool,
        typer.Option(
            "--check-resume",
            help="Replay the run's last checkpoint interval and compare (costs that training).",
        ),
    ] = False,
    json_path: JsonOpt = None,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Why does transfer work poorly? Data, domain and training checks, ranked, each with the
    evidence and the config change to try.

    Example: domainfit diagnose examples/adapt_office_dann.yaml --run runs/office-dann
    """
    from domainfit.console import render_diagnosis

    with silenced(quiet):
        result = api.diagnose(
            config, run=run, overrides=list(set_ or []), check_resume=check_resume
        )
    if json_path is not None:
        result.write(json_path)
    if not quiet:
        render_diagnosis(result, Console(highlight=False))


@app.command("augment-preview")
def augment_preview(
    config: Annotated[str, typer.Argument(help="Run config (YAML) with an augment: list.")],
    n: Annotated[int, typer.Option("--n", help="Training samples shown.")] = 16,
    out: Annotated[Path, typer.Option(help="Folder for the preview.")] = Path(
        "runs/augment-preview"
    ),
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """What the model will see: training samples before and after augmentation (an image grid,
    or before/after text pairs).

    Example: domainfit augment-preview examples/digits_augment.yaml --n 16 --out runs/preview
    """
    from domainfit.augment.preview import write_preview
    from domainfit.config_io import load_config

    cfg = load_config(config, list(set_ or []))
    with silenced(quiet):
        paths = write_preview(cfg, Path(config).parent, n, out)
    if not quiet:
        for p in paths:
            Console().print(f"preview written to {p}", markup=False)
