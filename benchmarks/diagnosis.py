"""Data diagnosis against the tools practitioners already trust: domainfit ``diagnose``,
cleanlab's ``Datalab`` and Deepchecks' integrity and train-test checks, on planted faults.

Three real data sets as frozen features (``diagnosis_data``: Amazon kitchen reviews through
MiniLM, PACS photos through EfficientNet-Lite0, Office-Caltech SURF), each fault of
``diagnosis_cases.FAULTS`` at every strength, 3 seeds, and per (set, seed) the clean twin.

Rows (format: ../shared/docs/BENCHMARKS.md), task ``<set>/<fault>@<strength>``, method the tool:

- ``metric: raised``: 100 if the tool raised the planted code, else 0 (``severity`` beside it);
  on the clean twin (task ``<set>/clean``) one row per code: 100 is a false alarm there.
- ``metric: precision`` / ``recall`` (percent) of the flagged rows against the planted ones,
  for label noise and duplicates; label noise also as ``precision_looks_wrong``/``recall_...``
  (domainfit's suspects it judges "label looks wrong") and ``estimate`` (the noise rate the
  finding reports, percent) next to the planted rate.

Run:   .venv/bin/python benchmarks/diagnosis.py [--sets text,image,features] [--seeds 0,1,2]
       [--tools domainfit,cleanlab,deepchecks] [--fresh]
Writes benchmarks/results/diagnosis.json after every case; rows already there are skipped,
so an interrupted run resumes (``--fresh`` starts over). Summary: diagnosis_summary.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from diagnosis_cases import FAULTS, Case, cases
from diagnosis_data import SETS, WORK, load
from results_file import append_rows

OUT = Path("benchmarks/results/diagnosis.json")
SCORED = ("label_noise", "duplicates")


def rows_for(case: Case, tool: str, result: dict[str, Any], seconds: float) -> list[dict[str, Any]]:
    base = {"method": tool, "seed": case.seed, "set": case.set}
    if case.fault == "clean":
        task = f"{case.set}/clean"
        out = [
            {
                **base,
                "task": task,
                "code": code,
                "metric": "raised",
                "value": 100.0 * bool(result.get(code, {}).get("raised")),
                "severity": result.get(code, {}).get("severity"),
            }
            for code in FAULTS
            if tool == "domainfit" or code in result
        ]
        if "label_noise" in result and "estimate" in result["label_noise"]:
            est = result["label_noise"]["estimate"]
            out.append({**base, "task": task, "metric": "estimate", "value": 100.0 * est})
        out.append({**base, "task": task, "metric": "seconds", "value": round(seconds, 2)})
        return out
    task = f"{case.set}/{case.fault}@{case.strength:g}"
    got = result.get(case.fault)
    if got is None and tool != "domainfit":
        return [{**base, "task": task, "metric": "seconds", "value": round(seconds, 2)}]
    got = got or {"raised": False, "severity": None, "flagged": []}
    out = [
        {**base, "task": task, "metric": "raised", "value": 100.0 * bool(got["raised"])},
        {**base, "task": task, "metric": "seconds", "value": round(seconds, 2)},
    ]
    out[0]["severity"] = got.get("severity")
    if case.fault in SCORED:
        truth = set(case.planted)
        for suffix, flagged in (
            ("", got.get("flagged", [])),
            ("_looks_wrong", got.get("looks_wrong")),
        ):
            if flagged is None:
                continue
            hit = len(truth & set(flagged))
            out.append(_score(base, task, f"precision{suffix}", hit, len(flagged)))
            out.append(_score(base, task, f"recall{suffix}", hit, len(truth)))
        if got.get("estimate") is not None:
            out.append(
                {**base, "task": task, "metric": "estimate", "value": 100.0 * got["estimate"]}
            )
    return out


def _score(base: dict[str, Any], task: str, metric: str, hit: int, total: int) -> dict[str, Any]:
    value = 100.0 * hit / total if total else None
    return {**base, "task": task, "metric": metric, "value": value, "count": total}


def run_tool(tool: str, case: Case) -> tuple[dict[str, Any], float, list[dict[str, Any]]]:
    import diagnosis_tools as tools

    if tool == "domainfit":
        work = WORK / "cases" / case.name.replace("/", "_")
        try:
            return tools.run_domainfit(case, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if tool == "cleanlab":
        res, s = tools.run_cleanlab(case)
        return res, s, []
    res, s = tools.run_deepchecks(case)
    return res, s, []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--tools", default="domainfit,cleanlab,deepchecks")
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--faults", default="", help="only these faults (and the clean twin)")
    ap.add_argument("--redo", action="store_true", help="rerun cases already in the file")
    args = ap.parse_args()
    out = args.out
    tools = args.tools.split(",")
    command = "python benchmarks/diagnosis.py " + " ".join(sys.argv[1:])
    doc: dict[str, Any] = {
        "benchmark": "diagnosis",
        "command": command.strip(),
        "machine": "2-core CPU",
        "rows": [],
    }
    if out.is_file() and not args.fresh:
        doc = json.loads(out.read_text())
    elif args.fresh and out.is_file():
        out.unlink()
    done = {(r["task"], r["method"], r["seed"]) for r in doc["rows"]}
    for name in args.sets.split(","):
        real = load(name)
        for seed in map(int, args.seeds.split(",")):
            for case in cases(real, seed):
                if args.faults and case.fault not in ("clean", *args.faults.split(",")):
                    continue
                task = (
                    f"{case.set}/clean"
                    if case.fault == "clean"
                    else f"{case.set}/{case.fault}@{case.strength:g}"
                )
                for tool in tools:
                    if (task, tool, seed) in done and not args.redo:
                        continue
                    try:
                        result, seconds, findings = run_tool(tool, case)
                    except Exception as err:  # a peer tool failing is a row, not a stop
                        rows = [
                            {
                                "task": task,
                                "method": tool,
                                "seed": seed,
                                "metric": "error",
                                "value": None,
                                "error": f"{type(err).__name__}: {err}"[:300],
                            }
                        ]
                        print(f"{task} {tool} seed {seed}: ERROR {err}", flush=True)
                    else:
                        rows = rows_for(case, tool, result, seconds)
                        if findings:
                            rows[0]["findings"] = findings
                        said = next(r for r in rows if r["metric"] in ("raised", "seconds"))
                        print(
                            f"{task} {tool} seed {seed}: {said['metric']}={said['value']} "
                            f"({seconds:.1f} s)",
                            flush=True,
                        )
                    key = (task, tool, seed)
                    append_rows(
                        out, doc, rows, lambda r, k=key: (r["task"], r["method"], r["seed"]) == k
                    )
                    done.add((task, tool, seed))
    print(f"wrote {out} ({len(doc['rows'])} rows) in {time.process_time():.0f} s CPU")


if __name__ == "__main__":
    main()
