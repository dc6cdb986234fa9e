"""``auto.json`` (machine-readable) and ``auto.html`` (one self-contained page): what was tried
in what order and why, the leaderboard with each run's 95% intervals, time per step against
the budget, the decisions, the diagnosis and the winner as a plain fit config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainfit.auto import priors
from domainfit.auto.budget import duration
from domainfit.io_utils import write_json_atomic, write_text_atomic
from domainfit.report import fmt


def leaderboard(rows: list[dict[str, Any]], classification: bool) -> list[dict[str, Any]]:
    """Finished steps, best source validation score first (ties keep the plan's order)."""
    done = [r for r in rows if r["status"] == "done"]
    sign = -1.0 if classification else 1.0

    def key(r: dict[str, Any]) -> float:
        v = r["scores"].get("source.val")
        return float("inf") if v is None else sign * v

    return sorted(done, key=key)


def write_json(out: Path, doc: dict[str, Any]) -> Path:
    path = out / "auto.json"
    write_json_atomic(path, doc)
    return path


def write_html(out: Path, doc: dict[str, Any]) -> Path:
    from domainfit.report.html import _render

    budget = doc["budget_seconds"]
    steps = [_step_view(r, budget) for r in doc["steps"]]
    board = [_board_view(r, doc.get("winner")) for r in doc["leaderboard"]]
    final = doc.get("final") or {}
    baselines = _baseline_view(final.get("baselines") or {})
    winner_yaml = (out / "winner.yaml").read_text() if (out / "winner.yaml").is_file() else ""
    html = _render(
        "auto.html.j2",
        doc=doc,
        steps=steps,
        board=board,
        baselines=baselines,
        findings=(final.get("diagnosis") or {}).get("findings", []),
        diagnosis_error=(final.get("diagnosis") or {}).get("error"),
        export=final.get("export") or {},
        refit=final.get("refit") or {},
        timings={k: duration(v) for k, v in (final.get("timings") or {}).items()},
        winner_yaml=winner_yaml,
        budget=duration(budget),
        spent=duration(doc["seconds"]),
        select=priors.SELECT,
    )
    path = out / "auto.html"
    write_text_atomic(path, html)
    return path


def _step_view(r: dict[str, Any], budget: float) -> dict[str, Any]:
    seconds = r.get("seconds")
    return {
        **r,
        "estimate_text": duration(r["estimate"]) if r.get("estimate") is not None else "",
        "seconds_text": duration(seconds) if seconds is not None else "",
        "share": min(100.0, 100.0 * (seconds or 0.0) / budget),
    }


def _board_view(r: dict[str, Any], winner: dict[str, Any] | None) -> dict[str, Any]:
    s = r["scores"]
    return {
        "id": r["id"],
        "title": r["title"],
        "model": r["model"],
        "dir": r["dir"],
        "source_val": fmt.num(s.get("source.val")),
        "source_test": fmt.with_ci(s.get("source.test"), s.get("source.test.ci")),
        "target_test": fmt.with_ci(s.get("target.test"), s.get("target.test.ci"))
        if "target.test" in s
        else "",
        "label_free": fmt.num(s.get(priors.SELECT), 4) if priors.SELECT in s else "",
        "seconds": duration(r.get("seconds") or 0.0),
        "winner": winner is not None and winner.get("id") == r["id"],
        "timed_out": bool(s.get("timed_out")),
    }


def _baseline_view(b: dict[str, Any]) -> list[dict[str, Any]]:
    blank = dict.fromkeys(("split", "run", "baseline", "gain", "p", "note"), "")
    return [{**blank, **row} for row in _baseline_rows(b)]


def _baseline_rows(b: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    compared = (b.get("compared") or {}).get("baselines", {})
    for name, entry in compared.items():
        if "skipped" in entry:
            rows.append({"name": name, "note": entry["skipped"]})
        for c in entry.get("comparisons", []):
            if "note" in c:
                rows.append({"name": name, "note": c["note"]})
                continue
            rows.append(
                {
                    "name": name,
                    "split": c["split"],
                    "run": fmt.num(c["run"]),
                    "baseline": fmt.num(c["baseline"]),
                    "gain": fmt.with_ci(c["gain"], c["ci"]),
                    "p": fmt.pvalue(c.get("p_bootstrap")),
                    "note": b.get("notes", {}).get(name, ""),
                }
            )
    for name, note in (b.get("notes") or {}).items():
        if name not in compared:
            rows.append({"name": name, "note": note})
    return rows
