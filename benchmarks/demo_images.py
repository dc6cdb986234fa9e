"""The image demo as a benchmark: EfficientNet-Lite0 from PACS photos to art paintings, the
linear probe against two_stage, both scored on every art painting.

Run: .venv/bin/python benchmarks/demo_images.py [--quick] [--threads N]
     runs the demo in a fresh working folder, so the feature cache starts cold, as a first
     `domainfit demo --images` does; or
     .venv/bin/python benchmarks/demo_images.py --from DIR --seconds S [--peak-mb M]
         [--load BEFORE AFTER] [--threads N] [--quick]
     records a finished `domainfit demo --images --out DIR` timed from outside (S: its wall
     time, M: its peak RSS, e.g. from /usr/bin/time -v; N: the OMP_NUM_THREADS it ran with).
Writes benchmarks/results/demo_images[_quick].json (format: ../shared/docs/BENCHMARKS.md); rows
carry the torch thread count, and a run with other threads than the default adds timing rows only
(the accuracies do not depend on it) and replaces only that thread count's rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from results_file import append_rows

from domainfit.demo import IMAGE_DEMO, image_demo_configs, run_demo
from domainfit.report.compare import Paired, paired
from domainfit.report.runfolder import RunFolder

TASK = "pacs:photo->art_painting"
METRICS = [key for _, key in IMAGE_DEMO.columns]  # photo test, art paintings
DEFAULT_THREADS = torch.get_num_threads()


def accuracy_rows(root: Path) -> list[dict[str, Any]]:
    """Each run's accuracies (its seconds beside them) and two_stage's paired gain."""
    rows = []
    for name in image_demo_configs(False):
        metrics = json.loads((root / name / "metrics.json").read_text())
        seconds = json.loads((root / name / "run.json").read_text())["seconds"]
        for key in METRICS:
            row = {"task": TASK, "method": f"lite0_{name}", "seed": 0}
            row |= {"metric": key.replace(".", "_"), "value": round(100 * metrics[key], 2)}
            rows.append(row | {"seconds": round(seconds, 1)})
    main, base = RunFolder(root / IMAGE_DEMO.main), RunFolder(root / IMAGE_DEMO.baseline)
    for item in paired(main, base, IMAGE_DEMO.main, IMAGE_DEMO.baseline):
        if isinstance(item, Paired):
            c = item.comparison
            rows.append(
                {
                    "task": TASK,
                    "method": f"lite0_{IMAGE_DEMO.main}_minus_{IMAGE_DEMO.baseline}",
                    "seed": 0,
                    "metric": f"{item.split.replace('.', '_')}_accuracy_gain",
                    "value": round(100 * c.diff, 2),
                    "ci": [round(100 * v, 2) for v in c.ci],
                    "p_mcnemar": c.p_mcnemar,
                    "n": item.n,
                }
            )
    return rows


def timing_rows(root: Path, total: float, extra: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name in image_demo_configs(False):
        seconds = round(json.loads((root / name / "run.json").read_text())["seconds"], 1)
        row = {"task": TASK, "method": f"lite0_{name}", "seed": 0, "metric": "seconds"}
        rows.append(row | {"value": seconds, "seconds": seconds})
    row = {"task": TASK, "method": "demo_total", "seed": 0, "metric": "seconds"}
    rows.append(row | {"value": round(total, 1), "seconds": round(total, 1)} | extra)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--from", dest="root", type=Path, help="a finished demo's --out folder")
    parser.add_argument("--seconds", type=float, help="with --from: the demo's wall time")
    parser.add_argument("--peak-mb", type=float, help="with --from: the demo's peak RSS")
    parser.add_argument("--load", type=float, nargs=2, help="with --from: 1-min load before, after")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="torch threads")
    args = parser.parse_args()
    flag = " --quick" if args.quick else ""
    load, extra = args.load, {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.root is not None:
            if args.seconds is None:
                parser.error("--from needs --seconds (the demo's wall time)")
            root, total = args.root, args.seconds
            command = f"domainfit demo --images{flag} --out {root} (/usr/bin/time -v)"
        else:
            torch.set_num_threads(args.threads)
            root, cwd = Path(tmp) / "demo", Path.cwd()
            before, start = os.getloadavg()[0], time.perf_counter()
            os.chdir(tmp)  # runs/cache/features and MLflow's database start empty
            try:
                run_demo(args.quick, root, images=True)
            finally:
                os.chdir(cwd)
            total, load = time.perf_counter() - start, [before, os.getloadavg()[0]]
            command = f"python benchmarks/demo_images.py{flag}"
        extra["command"] = command
        if args.peak_mb is not None:
            extra["peak_mb"] = round(args.peak_mb)
        if load is not None:  # other jobs share the 2 cores: times scale with their load
            extra["load_1min_before"], extra["load_1min_after"] = (round(x, 2) for x in load)
        rows = timing_rows(root, total, extra)
        if args.threads == DEFAULT_THREADS:
            rows = accuracy_rows(root) + rows
    for r in rows:
        r["threads"] = args.threads
    suffix = "_quick" if args.quick else ""
    doc = {
        "benchmark": f"demo_images{suffix}",
        "command": f"python benchmarks/demo_images.py{flag} [--from DIR ...]; each run's "
        "command is in its demo_total row",
        "date": "",
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores, shared",
        "setup": image_demo_configs(args.quick),
        "rows": [],
    }
    out = Path(__file__).parent / "results" / f"demo_images{suffix}.json"
    append_rows(out, doc, rows, replaces=lambda r: r.get("threads") == args.threads)
    for r in rows:
        print(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
