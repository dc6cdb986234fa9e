"""Speed of the classic methods on DeCAF-shaped data, before and after the low-rank forms
(``domainfit.adapt.classic_lowrank``, issue 25), and the equality of their accuracies.

Timing: random features of the Office-Caltech DeCAF6 D->W shape (157 source + 295 target
samples, 4,096-d, 10 classes; no DeCAF data here): TCA and JDA (``primal``, dim 100, lam 1,
unit-norm rows) and CORAL (eps 1). Accuracy: target 1-NN accuracy of the same methods on the
real Office-Caltech SURF tasks D->W and W->D (800-d, n = 452 < d: the dual form) and MNIST->USPS
(256-d, n = 3,800 > d: TCA's linear kernel in feature space). "before" is the committed code
(``git archive HEAD src``), "after" the working tree; each runs in its own process.

Run:   .venv/bin/python benchmarks/classic_speed.py [--before-jda-iterations 1] [--threads 2]
The old primal JDA solves a 4,096 x 4,096 generalised eigenproblem per iteration, so "before"
runs ``--before-jda-iterations`` (default 1) and its row says how many; 10 iterations cost ~10x.
Writes benchmarks/results/classic_speed.json (format: ../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
Row = dict[str, Any]


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - start, 2)


def worker(group: str, jda_iterations: int) -> list[Row]:
    """Every measurement with whichever ``domainfit`` is on the path."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import digits_jda  # the digits' loader and preprocessing
    import office_caltech as oc

    from domainfit.adapt.classic_align import coral_recolor
    from domainfit.adapt.classic_classifiers import make_classifier
    from domainfit.adapt.classic_jda import jda
    from domainfit.adapt.classic_tca import row_normalize, tca

    warnings.simplefilter("ignore")  # the new CORAL warning, absent before
    rows: list[Row] = []

    def add(task: str, method: str, metric: str, value: float, seconds: float) -> None:
        rows.append({"task": task, "group": group, "method": method, "seed": 0,
                     "metric": metric, "value": value, "seconds": seconds})  # fmt: skip

    def nn(zs: np.ndarray, ys: np.ndarray, zt: np.ndarray, yt: np.ndarray) -> float:
        pred = make_classifier("1nn").fit(zs, ys).predict(zt)
        return round(100.0 * float((pred == yt).mean()), 2)

    rng = np.random.default_rng(0)
    xs, xt = rng.random((157, 4096)), rng.random((295, 4096))
    ys = np.arange(157) % 10
    task = "random 157+295 x 4096"
    _, sec = timed(lambda: tca(xs, xt, 100, kernel="primal", normalize=True))
    add(task, "tca_primal", "seconds", sec, sec)
    _, sec = timed(lambda: jda(xs, ys, xt, 100, iterations=jda_iterations, kernel="primal"))
    add(task, f"jda_primal_{jda_iterations}it", "seconds", sec, sec)
    _, sec = timed(lambda: coral_recolor(xs, xt, 1.0))
    add(task, "coral", "seconds", sec, sec)

    def office(name: str) -> None:
        s, y, t, yt = oc.load_task(name)
        (zs, zt), sec = timed(lambda: tca(s, t, 100, kernel="primal", normalize=True))
        add(name, "tca_primal_1nn", "accuracy", nn(zs, y, zt, yt), sec)
        r, sec = timed(lambda: jda(s, y, t, 100, kernel="primal"))
        value = round(100.0 * float((r.predictions == yt).mean()), 2)
        add(name, "jda_primal_1nn", "accuracy", value, sec)
        zs, sec = timed(lambda: coral_recolor(s, t, 1.0))
        add(name, "coral_1nn", "accuracy", nn(zs, y, t, yt), sec)

    office("D->W")
    office("W->D")
    s, y, t, yt = oc.load_task("M->U", digits_jda.DATASET, digits_jda.DOMAINS, row_normalize)
    (zs, zt), sec = timed(lambda: tca(s, t, 100, kernel="linear"))
    add("M->U", "tca_linear_1nn", "accuracy", nn(zs, y, zt, yt), sec)
    zs, sec = timed(lambda: coral_recolor(s, t, 1.0))
    add("M->U", "coral_1nn", "accuracy", nn(zs, y, t, yt), sec)
    return rows


def run_group(group: str, src: Path, args: argparse.Namespace, iterations: int) -> list[Row]:
    env = dict(os.environ, PYTHONPATH=str(src))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    cmd = [sys.executable, __file__, "--worker", group, "--jda-iterations", str(iterations)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--before-jda-iterations", type=int, default=1)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--jda-iterations", type=int, default=10, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.jda_iterations)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", "HEAD", "src"], cwd=ROOT, check=True,
                                 capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        rows = run_group("before", Path(tmp) / "src", args, args.before_jda_iterations)
    rows += run_group("after", ROOT / "src", args, 10)
    doc = {
        "benchmark": "classic-speed",
        "command": "python benchmarks/classic_speed.py",
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()}-core CPU, {args.threads} BLAS threads",
        "setup": {"dim": 100, "lam": 1.0, "mu": 1.0, "coral_eps": 1.0,
                  "before_jda_iterations": args.before_jda_iterations, "after_jda_iterations": 10},
        "rows": rows,
    }  # fmt: skip
    out = ROOT / "benchmarks" / "results" / "classic_speed.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print("| task | method | metric | before | after | before s | after s |")
    print("|---|---|---|---|---|---|---|")
    before = {(r["task"], r["method"].split("_1it")[0].split("_10it")[0]): r for r in rows
              if r["group"] == "before"}  # fmt: skip
    for r in rows:
        if r["group"] == "after":
            b = before.get((r["task"], r["method"].split("_10it")[0].split("_1it")[0]), {})
            print(f"| {r['task']} | {r['method']} | {r['metric']} | {b.get('value')} | "
                  f"{r['value']} | {b.get('seconds')} | {r['seconds']} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
