"""Audit every named public data set and record the exact counts.

Run: .venv/bin/python benchmarks/audit_public_sets.py
Writes benchmarks/results/audit_public_sets.json (format: ../shared/docs/BENCHMARKS.md); one row
per data set and check, ``value`` = the exact count, ``method`` = "audit (default split, seed 0)".
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import time
from pathlib import Path

import domainfit
from domainfit.data.benchmarks import list_named
from domainfit.io_utils import write_json_atomic

OUT = Path(__file__).parent / "results" / "audit_public_sets.json"
CHECKS = (
    "exact_duplicates",
    "near_duplicates",
    "conflicting_labels",
    "missing_values",
    "constant_columns",
    "leakage_train_val",
    "leakage_train_test",
    "leakage_val_test",
    "near_leakage_train_test",
)


def main() -> int:
    rows = []
    for name in list_named():
        start = time.perf_counter()
        report = domainfit.audit(source=name)
        seconds = round(time.perf_counter() - start, 2)
        domain = report.domains[0].domain
        rows.append(
            {
                "task": name,
                "method": "audit",
                "seed": 0,
                "metric": "samples",
                "value": report.domains[0].samples,
                "seconds": seconds,
            }
        )
        for check in CHECKS:
            item = report.get(domain, check)
            rows.append(
                {
                    "task": name,
                    "method": "audit",
                    "seed": 0,
                    "metric": check,
                    "value": item.count,
                    "seconds": seconds,
                    "examples": item.examples[:3],
                }
            )
        print(f"{name:38s} " + " ".join(f"{r['metric']}={r['value']}" for r in rows[-10:]))
    write_json_atomic(
        OUT,
        {
            "benchmark": "audit_public_sets",
            "command": "python benchmarks/audit_public_sets.py",
            "date": dt.date.today().isoformat(),
            "machine": f"{platform.machine()} CPU, {platform.python_version()}",
            "domainfit": domainfit.__version__,
            "rows": rows,
        },
    )
    print(f"written {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
