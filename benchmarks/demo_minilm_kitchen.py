"""The demo as a benchmark: MiniLM on Amazon kitchen reviews, frozen head vs full fine-tuning.

Run: .venv/bin/python benchmarks/demo_minilm_kitchen.py [--quick]
Writes benchmarks/results/demo_minilm_kitchen[_quick].json (format: ../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

from domainfit.demo import run_demo
from domainfit.io_utils import write_json_atomic


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        runs = run_demo(args.quick, Path(tmp) / "demo")
    total = time.perf_counter() - start
    rows = []
    for name, run in runs.items():
        for metric in ("source.val.accuracy", "source.test.accuracy"):
            rows.append(
                {
                    "task": "amazon-reviews:kitchen",
                    "method": f"minilm_{name}",
                    "seed": 0,
                    "metric": metric.removeprefix("source.").replace(".", "_"),
                    "value": round(100 * run.metrics[metric], 2),
                    "seconds": round(run.seconds, 1),
                }
            )
    rows.append(
        {
            "task": "amazon-reviews:kitchen",
            "method": "demo_total",
            "seed": 0,
            "metric": "seconds",
            "value": round(total, 1),
            "seconds": round(total, 1),
        }
    )
    suffix = "_quick" if args.quick else ""
    out = Path(__file__).parent / "results" / f"demo_minilm_kitchen{suffix}.json"
    write_json_atomic(
        out,
        {
            "benchmark": f"demo_minilm_kitchen{suffix}",
            "command": "python benchmarks/demo_minilm_kitchen.py"
            + (" --quick" if args.quick else ""),
            "date": dt.date.today().isoformat(),
            "machine": f"{platform.machine()} CPU, 2 cores",
            "rows": rows,
        },
    )
    for r in rows:
        print(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
