"""Linear probe on cached features against the same head trained through the frozen backbone.

Both train the same linear head on all-MiniLM-L6-v2 (mean pooling, max_length 128) for the same
epochs with the same optimizer, learning rate, batch size and seed, on kitchen reviews with a
fixed test set. ``frozen`` runs the encoder on every batch of every epoch; ``linear_probe``
runs it once over each split (cold: empty feature cache) or not at all (warm: the cache an
earlier run left), then trains the head on the features.

Each measurement is a fresh child process (its own imports, model load and peak memory). The
rounds interleave frozen, cold and warm, so a change in the load of the shared CPU hits all
three; the load average is recorded before and after each. ``seconds`` is the wall time of the
``fit`` call; ``process_seconds`` adds interpreter start and imports.

Run:   .venv/bin/python benchmarks/linear_probe_cache.py [--rounds 2] [--train 1000] [--epochs 10]
Quick: .venv/bin/python benchmarks/linear_probe_cache.py --quick   (200 train, 200 test, 2 epochs)
Writes benchmarks/results/linear_probe_cache[_quick].json (format: ../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from domainfit.io_utils import write_json_atomic

TARGET = "kitchen"
WORK = Path("runs/bench/linear_probe_cache")
RESULTS = Path(__file__).parent / "results"
METHODS = ("frozen", "linear_probe_cold", "linear_probe_warm")
# A head-only recipe (as benchmarks/strategies.py's linear probe); identical for both methods.
TRAIN = {"batch_size": 32, "lr": 1e-2, "schedule": "constant", "optimizer": "adamw"}


def task_data(n_train: int, n_test: int, seed: int) -> Path:
    """CSV of ``n_train`` training reviews and a fixed test set (duplicates dropped first)."""
    out = WORK / "data" / f"{TARGET}-train{n_train}-test{n_test}-s{seed}.csv"
    if out.is_file():
        return out
    import pandas as pd

    from domainfit import load_data

    ds = load_data(f"amazon-reviews:{TARGET}")
    frame = pd.DataFrame({"text": list(ds.inputs), "label": np.asarray(ds.labels)})
    frame = frame.drop_duplicates("text").reset_index(drop=True)
    order = np.random.default_rng(12345).permutation(len(frame))  # the same test set always
    test, pool = order[:n_test], order[n_test:]
    train = np.random.default_rng(seed).choice(pool, size=n_train, replace=False)
    frame["split"] = ""
    frame.loc[test, "split"] = "test"
    frame.loc[train, "split"] = "train"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame[frame["split"] != ""].to_csv(out, index=False)
    return out


def run_config(csv: Path, method: str, epochs: int, seed: int, cache: Path) -> dict[str, Any]:
    strategy = {"name": "frozen"} if method == "frozen" else {"name": "linear_probe"}
    if method != "frozen":
        strategy["cache_dir"] = str(cache)
    return {
        "name": f"bench-{method}",
        "seed": seed,
        "data": {"source": {"spec": str(csv), "text": "text", "label": "label", "split": "split"}},
        "split": {"method": "predefined"},
        "model": {"backbone": "minilm", "max_length": 128},
        "strategy": strategy,
        "train": {**TRAIN, "epochs": epochs},
        "track": {"enabled": False, "report": False},
    }


def run_one(cfg: dict[str, Any]) -> dict[str, float]:
    """In the child: one fit, timed; its test accuracy, CPU time and peak memory."""
    import domainfit
    from domainfit.progress import silenced

    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp, silenced():
        start = time.perf_counter()
        run = domainfit.fit(cfg, out=Path(tmp) / "run")
        seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "accuracy": float(run.metrics["source.test.accuracy"]),
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
    }


def measure(cfg: dict[str, Any], threads: int) -> dict[str, float]:
    """A fresh child process for one fit; the load average around it."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    cmd = [sys.executable, __file__, "--one", json.dumps(cfg), "--threads", str(threads)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith("ROW ")]
    if proc.returncode != 0 or not rows:
        raise RuntimeError(f"{cfg['strategy']} failed:\n{proc.stderr[-3000:]}")
    res: dict[str, float] = json.loads(rows[-1][4:])
    res["process_seconds"] = time.perf_counter() - start
    res["load_before"], res["load_after"] = load_before, os.getloadavg()[0]
    return res


def run_round(csv: Path, args: argparse.Namespace, cache: Path) -> dict[str, dict[str, float]]:
    """Frozen, then the probe on an emptied cache, then again on the cache it filled."""
    out = {}
    for method in METHODS:
        if method == "linear_probe_cold":
            shutil.rmtree(cache, ignore_errors=True)
        cfg = run_config(csv, method, args.epochs, args.seed, cache)
        out[method] = measure(cfg, args.threads)
        print(f"  {method}: {_line(out[method])}", flush=True)
    return out


def _line(res: dict[str, float]) -> str:
    return (
        f"{res['seconds']:.1f} s fit ({res['process_seconds']:.1f} s process), "
        f"accuracy {100 * res['accuracy']:.2f}%, load {res['load_before']:.1f}->"
        f"{res['load_after']:.1f}"
    )


def rows_of(rounds: list[dict[str, dict[str, float]]], task: str, seed: int) -> list[dict]:
    rows: list[dict[str, Any]] = []
    for i, measured in enumerate(rounds):
        for method, res in measured.items():
            common = {"task": task, "method": method, "seed": seed, "round": i}
            extra = {
                "seconds": round(res["seconds"], 2),
                "process_seconds": round(res["process_seconds"], 2),
                "cpu_seconds": round(res["cpu_seconds"], 2),
                "peak_mb": round(res["peak_mb"], 1),
                "load_1min_before": round(res["load_before"], 2),
                "load_1min_after": round(res["load_after"], 2),
            }
            rows.append({**common, "metric": "accuracy", "value": round(100 * res["accuracy"], 2)})
            rows.append({**common, "metric": "fit_seconds", "value": round(res["seconds"], 2)})
            rows[-1].update(extra)
    rows += speedup_rows(rounds, task, seed)
    return rows


def speedup_rows(rounds: list[dict[str, dict[str, float]]], task: str, seed: int) -> list[dict]:
    """Median frozen time over median probe time, for fit seconds and for CPU seconds (CPU
    time hardly grows when other jobs share the cores)."""
    out = []
    for probe in METHODS[1:]:
        for metric, key in (
            ("speedup_fit_seconds", "seconds"),
            ("speedup_cpu_seconds", "cpu_seconds"),
        ):
            frozen = median(r["frozen"][key] for r in rounds)
            mine = median(r[probe][key] for r in rounds)
            out.append(
                {
                    "task": task,
                    "method": f"{probe}_vs_frozen",
                    "seed": seed,
                    "metric": metric,
                    "value": round(frozen / mine, 2),
                }
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 train, 200 test, 2 epochs")
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per child")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import torch

        torch.set_num_threads(args.threads)
        print("ROW " + json.dumps(run_one(json.loads(args.one))))
        return 0
    if args.quick:
        args.train, args.test, args.epochs, args.rounds = 200, 200, 2, 1
    csv = task_data(args.train, args.test, args.seed)
    cache = WORK / "feature-cache"
    rounds = []
    for i in range(args.rounds):
        print(f"round {i + 1}/{args.rounds}", flush=True)
        rounds.append(run_round(csv, args, cache))
    task = f"amazon-reviews:{TARGET}"
    suffix = "_quick" if args.quick else ""
    doc = {
        "benchmark": f"linear_probe_cache{suffix}",
        "command": "python " + " ".join(["benchmarks/linear_probe_cache.py", *sys.argv[1:]]),
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()}-core CPU, shared (see load_1min_* per row)",
        "setup": {
            "backbone": "all-MiniLM-L6-v2, mean pooling, max_length 128",
            "train_reviews": args.train,
            "test_reviews": args.test,
            "epochs": args.epochs,
            "train": TRAIN,
            "head": "linear (dropout 0.1), the config default",
            "threads": args.threads,
            "rounds": args.rounds,
        },
        "rows": rows_of(rounds, task, args.seed),
    }
    out = RESULTS / f"linear_probe_cache{suffix}.json"
    write_json_atomic(out, doc)
    print(summary(doc["rows"]))
    print(f"wrote {out}")
    return 0


def summary(rows: list[dict[str, Any]]) -> str:
    """Markdown table: per method the median fit seconds, CPU seconds and accuracy."""
    lines = [
        "| method | fit seconds (median) | CPU seconds (median) | test accuracy | load (1 min) |",
        "|---|---:|---:|---:|---:|",
    ]
    for method in METHODS:
        timed = [r for r in rows if r["method"] == method and r["metric"] == "fit_seconds"]
        accs = [r["value"] for r in rows if r["method"] == method and r["metric"] == "accuracy"]
        loads = [r[k] for r in timed for k in ("load_1min_before", "load_1min_after")]
        lines.append(
            f"| {method} | {median(r['value'] for r in timed):.1f} | "
            f"{median(r['cpu_seconds'] for r in timed):.1f} | "
            f"{' / '.join(f'{a:.2f}' for a in accs)} | {min(loads):.1f}-{max(loads):.1f} |"
        )
    for r in rows:
        if r["metric"].startswith("speedup"):
            lines.append(f"\n{r['method']} {r['metric']}: {r['value']:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
