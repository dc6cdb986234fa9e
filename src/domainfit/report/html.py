"""Self-contained HTML reports: one run (``report.html`` in its folder) or several side by side.
Everything is inline (CSS, SVG figures, image thumbnails), so a report opens offline and can be
mailed or attached as one file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import Environment, PackageLoader, StrictUndefined

from domainfit.io_utils import write_text_atomic
from domainfit.report import compare, fmt, plots
from domainfit.report.datasummary import describe
from domainfit.report.runfolder import RunFolder
from domainfit.report.sections import Plot, cross_validation, plot, split_views, training_plots


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("domainfit.report", "templates"),
        autoescape=True,  # run names, class names and review texts are data, never markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=fmt.num,
        cell=fmt.cell,
        count=fmt.count,
        seconds=fmt.seconds,
        interval=fmt.interval,
        pvalue=fmt.pvalue,
    )
    try:
        env.globals["version"] = version("domainfit")
    except PackageNotFoundError:
        env.globals["version"] = ""
    return env


def _render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


@dataclass
class PairedSection:
    rows: list[compare.Paired] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, items: list[compare.Paired | str]) -> None:
        for item in items:
            if isinstance(item, str):
                self.notes.append(item)
            else:
                self.rows.append(item)

    def __bool__(self) -> bool:
        return bool(self.rows or self.notes)


def _names(runs: Sequence[RunFolder]) -> list[str]:
    """Short labels for runs: the folder name, or its parent/name when two folders share one."""
    names = [r.name for r in runs]
    return [f"{r.path.parent.name}/{r.name}" if names.count(r.name) > 1 else r.name for r in runs]


def write_run_report(run_dir: Path, baselines: Sequence[Path] = ()) -> Path:
    """Write ``run_dir/report.html`` from the run's files; with ``baselines``, add paired
    comparisons of this run against each on their shared test samples. Returns its path."""
    run = RunFolder(Path(run_dir))
    splits = split_views(run)
    training = training_plots(run)
    cv = cross_validation(run)
    # a k-fold parent's metrics.json holds fold means: the header shows them as mean ± std
    value, ci = run.headline_value() if run.splits or cv is None else (None, None)
    baseline_runs = [RunFolder(Path(b)) for b in baselines]
    names = _names([run, *baseline_runs])
    paired = PairedSection()
    for base, name in zip(baseline_runs, names[1:], strict=True):
        paired.add(compare.paired(run, base, names[0], name))
    data = describe("", run.data_summary) if run.data_summary else None
    diagnosis = _json_or_none(run.path / "diagnosis.json")
    nav = [
        ("config", "config", bool(run.config_text)),
        ("data", "data", bool(data)),
        ("cv", "cross-validation", bool(cv)),
        ("training", "training", bool(training)),
        *((f"split-{s.name}", s.name, True) for s in splits),
        ("diagnosis", "diagnosis", bool(diagnosis)),
        ("baselines", "baselines", bool(paired)),
    ]
    html = _render(
        "run.html.j2",
        run=run,
        headline={"metric": run.headline, "split": run.test_split, "value": value, "ci": ci},
        nav=[(anchor, label) for anchor, label, shown in nav if shown],
        config_text=run.config_text,
        data=data,
        cv=cv,
        training=training,
        splits=splits,
        baselines=paired,
        diagnosis=diagnosis,
    )
    out = run.path / "report.html"
    write_text_atomic(out, html)
    return out


def _overlay(runs: Sequence[RunFolder], names: Sequence[str]) -> list[Plot]:
    histories = {n: r.history for r, n in zip(runs, names, strict=True)}
    keys = [k for r in runs for row in r.history for k in row if k.startswith("val.")]
    wanted = f"val.{runs[0].headline}" if runs else ""
    metric = wanted if wanted in keys else next((k for k in keys if k != "val.loss"), "val.loss")
    return plot(
        "validation-curves",
        f"Validation loss and {metric.removeprefix('val.')} of each run at each validation.",
        plots.validation_overlay(histories, metric),
    )


class CompareFiles(NamedTuple):
    html: Path
    markdown: Path
    verdicts: list[str]  # each run against the first, as the console shows them


def write_compare_report(run_dirs: Sequence[Path], out: Path) -> CompareFiles:
    """A leaderboard of ``run_dirs``, their validation curves overlaid, and each run paired
    against the first. Writes ``out`` (HTML) and ``out.with_suffix(".md")`` (the leaderboard as a
    markdown table and the paired verdicts)."""
    runs = [RunFolder(Path(d)) for d in run_dirs]
    if not runs:
        raise ValueError("write_compare_report needs at least one run folder")
    names = _names(runs)
    entries = compare.leaderboard(runs, names)
    metric = runs[0].headline
    paired = PairedSection()
    said: list[str] = []
    for run, name in zip(runs[1:], names[1:], strict=True):
        items = compare.paired(run, runs[0], name, names[0])
        paired.add(items)
        said += compare.verdicts(items)
    html = _render(
        "compare.html.j2",
        entries=entries,
        metric=metric,
        columns=[(k, h.format(metric=metric)) for k, h in compare.COLUMNS.items()],
        numeric={"rank", "headline", "seconds", "trained_params"},
        curves=_overlay(runs, names),
        paired=paired,
        reference=names[0],
    )
    out = Path(out)
    md = out.with_suffix(".md")
    write_text_atomic(out, html)
    write_text_atomic(md, compare.markdown(entries, metric, said, names[0]))
    return CompareFiles(out, md, said)


def _json_or_none(path: Path) -> dict | None:
    import json

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None
