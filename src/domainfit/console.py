"""Terminal rendering with rich: tables a person reads at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:  # annotations only: the CLI imports this module before it knows the command
    from domainfit.data.audit import AuditReport
    from domainfit.diagnose.diagnose import Diagnosis
    from domainfit.rank.ranking import Ranking

# Checks whose non-zero count is a problem worth colour; the rest are informational.
_SEVERE = ("leakage", "conflicting_labels", "corrupt_files", "labels_only_in_target")
_INFO = ("class_balance",)


def _style(check: str, count: int) -> str:
    if count == 0 or check in _INFO:
        return "dim" if count == 0 else ""
    return "bold red" if any(s in check for s in _SEVERE) else "yellow"


def render_audit(report: AuditReport, console: Console) -> None:
    overview = Table(title="Data", title_justify="left")
    for col in ("role", "domain", "kind", "samples", "features", "classes", "origin"):
        overview.add_column(col, overflow="fold")
    for d in report.domains:
        overview.add_row(
            d.role,
            escape(d.domain),
            d.kind,
            str(d.samples),
            "" if d.features is None else str(d.features),
            "" if d.classes is None else str(d.classes),
            escape(d.origin),
        )
    console.print(overview)
    for domain in dict.fromkeys(i.domain for i in report.items):
        table = Table(title=f"Audit: {escape(domain)}", title_justify="left", show_lines=False)
        table.add_column("check")
        table.add_column("count", justify="right")
        table.add_column("details", overflow="fold", ratio=3)
        table.add_column("examples", overflow="fold", ratio=2)
        for item in (i for i in report.items if i.domain == domain):
            style = _style(item.check, item.count)
            table.add_row(
                item.check,
                f"[{style}]{item.count}[/]" if style else str(item.count),
                escape(item.detail),
                escape("; ".join(item.examples[:3])),
            )
        console.print(table)
    if report.cleaning:
        log = Table(title="Cleaning (before splitting)", title_justify="left")
        for col in ("domain", "action", "rows", "detail"):
            log.add_column(col)
        for a in report.cleaning:
            log.add_row(escape(a.domain), a.action, str(a.rows), escape(a.detail))
        console.print(log)
    splits = Table(title="Splits", title_justify="left")
    for col in ("domain", "fold", "train", "val", "test"):
        splits.add_column(col, justify="right" if col in ("train", "val", "test") else "left")
    for domain, folds in report.splits.items():
        for k, sizes in enumerate(folds):
            splits.add_row(
                escape(domain), str(k), str(sizes["train"]), str(sizes["val"]), str(sizes["test"])
            )
    console.print(splits)


# The columns people quote, in order; the rest stay in evaluation.json and the report.
_KEY_METRICS = {
    "classification": ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc"),
    "regression": ("rmse", "mae", "r2"),
}


_SHORT = {"balanced_accuracy": "balanced acc.", "f1_macro": "F1 macro", "roc_auc": "ROC-AUC"}


def render_evaluation(
    splits: dict[str, dict[str, Any]], console: Console, title: str = "Evaluation"
) -> None:
    """One row per split: n and the key metrics with their 95% bootstrap intervals."""
    if not splits:
        console.print("no labelled validation or test split to evaluate")
        return
    first = next(iter(splits.values()))
    kind = "classification" if "per_class" in first else "regression"
    names = [m for m in _KEY_METRICS[kind] if any(m in s["metrics"] for s in splits.values())]
    table = Table(title=title, title_justify="left", caption=escape("[95% bootstrap interval]"))
    table.add_column("split", no_wrap=True)
    table.add_column("n", justify="right")
    for name in names:
        table.add_column(_SHORT.get(name, name), justify="right")
    for split, ev in splits.items():
        cells = []
        for name in names:
            value = ev["metrics"].get(name)
            ci = ev.get("ci", {}).get(name)
            cell = "" if value is None else f"{value:.3f}"
            cells.append(cell + (f" [{ci[0]:.2f}–{ci[1]:.2f}]" if ci else ""))
        table.add_row(escape(split), str(ev["n"]), *cells)
    console.print(table)


SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


def render_diagnosis(result: Diagnosis, console: Console) -> None:
    """One row per finding, worst first; then what did not run and why."""
    if not result.findings:
        console.print(
            escape(f"no findings ({len(result.ran)} checks ran: {', '.join(result.ran)})")
        )
    else:
        table = Table(title="Findings (worst first)", title_justify="left", show_lines=True)
        for col in ("#", "severity", "code", "finding", "fix"):
            table.add_column(col, overflow="fold")
        for i, f in enumerate(result.findings, 1):
            style = SEVERITY_STYLE[f.severity]
            table.add_row(
                str(i), f"[{style}]{f.severity}[/]", f.code, escape(f.title), escape(f.fix)
            )
        console.print(table)
        for i, f in enumerate(result.findings, 1):
            if f.detail:
                _render_detail(f"#{i} {f.code}: rows to review", f.detail, console)
        console.print("evidence: --json PATH writes every finding's numbers and examples")
    for check, why in result.skipped.items():
        console.print(f"[dim]not run: {escape(check)}: {escape(why)}[/]")


def _render_detail(title: str, rows: list[dict[str, Any]], console: Console) -> None:
    """A finding's rows to review: one column per key of its rows."""
    table = Table(title=title, title_justify="left")
    for key in rows[0]:
        table.add_column(key, overflow="fold")
    for row in rows:
        cells = (f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values())
        table.add_row(*(escape(c) for c in cells))
    console.print(table)


def render_ranking(result: Ranking, console: Console) -> None:
    table = Table(
        title=escape(
            f"Candidates on {result.samples} labelled source samples ({result.pool} splits), "
            f"{result.classes} classes (ranked by {result.by})"
        ),
        title_justify="left",
    )
    names = ["logme", "hscore", "knn", "linear_probe", "leep", "nce"]
    shown = [n for n in names if any(n in r.scores for r in result.rows)]
    gap = any(r.gap for r in result.rows)
    gap_cols = ("target gap PAD", "× within") if gap else ()
    for col in ("#", "candidate", *shown, *gap_cols, "params", "ms/sample", "peak MB"):
        table.add_column(col, overflow="fold")
    table.add_column("fine-tune min", overflow="fold")
    for r in result.rows:
        c = r.cost
        gaps = (_gap_cell(r.gap, "pad", ".2f"), _gap_cell(r.gap, "ratio", ".1f")) if gap else ()
        table.add_row(
            str(r.rank),
            escape(r.name),
            *(_score_cell(n, r.scores.get(n)) for n in shown),
            *gaps,
            f"{c['params'] / 1e6:.1f}M",
            f"{c['latency_ms']:.2f}",
            f"{c['peak_mb']:.0f}",
            f"{c['finetune_minutes']:.1f}",
        )
    if gap:
        table.caption = (
            f"target gap: proxy A-distance between source and {result.target_samples} target "
            "rows in each candidate's features (0 alike, 2 told apart), and as a multiple of "
            "two source halves' (about 1: no shift beyond noise)"
        )
    console.print(table)
    for line in result.warnings:
        console.print(f"[yellow]warning[/]: {escape(line)}")
    console.print(f"[bold]recommended[/]: {escape(result.recommendation)}")
    for name, why in result.failed.items():
        console.print(f"[yellow]not scored[/]: {escape(name)}: {escape(why)}")


def _gap_cell(gap: dict[str, float], key: str, spec: str) -> str:
    return format(gap[key], spec) if key in gap else "–"


def _score_cell(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if name in ("knn", "linear_probe") else f"{value:.4g}"
