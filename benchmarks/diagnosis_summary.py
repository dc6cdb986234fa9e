"""The README tables of the diagnosis benchmark, from benchmarks/results/diagnosis.json.

Run: .venv/bin/python benchmarks/diagnosis_summary.py [RESULTS.json]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any

TOOLS = ("domainfit", "cleanlab", "deepchecks")
COLUMNS = ("domainfit", "serious", "cleanlab", "deepchecks")  # serious: domainfit, medium+


def _rows(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())["rows"])


def detection(rows: list[dict[str, Any]]) -> str:
    """Share of (set, seed) cases where each tool raised the planted code, per fault strength,
    and the false-alarm share of that code on the clean twins."""
    hits: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    alarms: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        if r["metric"] != "raised":
            continue
        name = r["task"].split("/", 1)[1]
        # domainfit grades its findings: "serious" counts only medium and high
        serious = 100.0 * (r.get("severity") in ("high", "medium"))
        if name == "clean":
            alarms[(r["code"], r["method"])].append(r["value"])
            if r["method"] == "domainfit":
                alarms[(r["code"], "serious")].append(serious)
        else:
            fault, strength = name.split("@")
            hits[(fault, strength, r["method"])].append(r["value"])
            if r["method"] == "domainfit":
                hits[(fault, strength, "serious")].append(serious)
    faults = dict.fromkeys(k[0] for k in hits)
    head = "| fault | strength | domainfit (any) | domainfit (medium+) | cleanlab | deepchecks |"
    lines = [head, "|---|---|---|---|---|---|"]
    for fault in faults:
        strengths = sorted({k[1] for k in hits if k[0] == fault}, key=float)
        for s in strengths:
            cells = [_pct(hits.get((fault, s, t))) for t in COLUMNS]
            lines.append(f"| {fault} | {s} | " + " | ".join(cells) + " |")
        cells = [_pct(alarms.get((fault, t))) for t in COLUMNS]
        lines.append(f"| {fault} | clean twin (false alarm) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_sample(rows: list[dict[str, Any]]) -> str:
    """Mean precision and recall of the flagged rows, per fault and strength, per tool."""
    got: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in rows:
        if r["metric"].startswith(("precision", "recall", "estimate")) and "@" in r["task"]:
            name = r["task"].split("/", 1)[1]
            if r["value"] is not None:
                got[(name, r["method"], r["metric"])].append(r["value"])
    names = sorted({k[0] for k in got}, key=lambda n: (n.split("@")[0], float(n.split("@")[1])))
    metrics = ("precision", "recall", "precision_looks_wrong", "recall_looks_wrong", "estimate")
    lines = ["| case | tool | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for name in names:
        for tool in TOOLS:
            cells = [_num(got.get((name, tool, m))) for m in metrics]
            if any(c != "" for c in cells):
                lines.append(f"| {name} | {tool} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pct(values: list[float] | None) -> str:
    if not values:
        return "no check"
    return f"{mean(values):.0f}% ({len(values)})"


def _num(values: list[float] | None) -> str:
    return f"{mean(values):.1f}" if values else ""


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/diagnosis.json")
    rows = _rows(path)
    print("## Detection\n\n" + detection(rows) + "\n\n## Flagged rows\n\n" + per_sample(rows))
