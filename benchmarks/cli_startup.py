"""Seconds for the CLI to start: ``domainfit --help``, a command's ``--help``, ``import domainfit``,
and ``import domainfit.api`` (the whole stack, which every command loaded before the imports were
made lazy; issue 23 measured 9 s for ``--help`` on an idle 2-core machine).

Each figure is the median wall time of ``--repeats`` fresh processes. Only meaningful on an
otherwise idle machine: the rows record the load average at the start.

Run:   .venv/bin/python benchmarks/cli_startup.py [--repeats 5]
Writes benchmarks/results/cli_startup.json (format: ../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "results" / "cli_startup.json"
CLI = str(Path(sys.executable).with_name("domainfit"))
CASES = {
    "domainfit --help": [CLI, "--help"],
    "domainfit fit --help": [CLI, "fit", "--help"],
    "import domainfit": [sys.executable, "-c", "import domainfit"],
    "import domainfit.api (all commands, before)": [sys.executable, "-c", "import domainfit.api"],
}


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from domainfit.io_utils import write_json_atomic

    load = os.getloadavg()[0]
    machine = f"{os.cpu_count()}-core CPU ({platform.machine()})"
    rows = []
    for task, argv in CASES.items():
        wall(argv)  # warm the file cache: the first start after install reads every .pyc
        seconds = statistics.median(wall(argv) for _ in range(args.repeats))
        rows.append(
            {
                "task": task,
                "method": "domainfit",
                "seed": 0,
                "metric": "seconds",
                "value": round(seconds, 3),
                "device": machine,
                "load_average_at_start": round(load, 2),
            }
        )
        print(f"{task:48s} {seconds:6.2f} s", flush=True)
    write_json_atomic(
        OUT,
        {
            "benchmark": "cli_startup",
            "command": "python " + " ".join(["benchmarks/cli_startup.py", *sys.argv[1:]]),
            "date": dt.date.today().isoformat(),
            "machine": machine,
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
