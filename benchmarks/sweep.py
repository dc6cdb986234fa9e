"""A pruned TPE sweep against the exhaustive grid over the same space (issue 9).

Task: Amazon reviews books -> kitchen, the DANN paper's 5000-d bag-of-words features (binarised,
as in ``amazon_bow.py``), an MLP (``mlp:100``) trained 10 epochs on the labelled books reviews
with the kitchen reviews as the target. Both training files are split 60/20/20; the kitchen
train split is the unlabelled pool, its val split (400 labelled reviews) is what the sweep
optimises (``target.val.accuracy``), and its test split (400) is only read for the best trial, so
the reported test accuracy carries no selection bias.

The space (60 grid points):
    train.lr            log_uniform [1e-4, 1e-2]     grid 1e-4, 1e-3, 1e-2
    model.head.dropout  uniform [0, 0.5]             grid 0.1, 0.4
    adapt.method        none | dann | mmd | coral
    adapt.weight        log_uniform [0.03, 3]        grid 0.03, 0.3, 3   (when a method is set)

- ``grid``: every point, no pruning (seed 0).
- ``tpe_hyperband``: 24 trials, TPE (6 random startup trials), Hyperband pruning on the target
  validation accuracy after each epoch; sampler and training seeds 0, 1, 2.

Rows per sweep: the best trial's target val and test accuracy, the trial seconds and epochs
(validations) it used, and its trial counts; TPE rows also give the trials and seconds it took
to come within 0.5 points of the grid's best validation accuracy.

Run:   .venv/bin/python benchmarks/sweep.py [--seeds 0,1,2] [--threads 1]
Writes benchmarks/results/sweep.json; sweep folders under runs/bench/sweep/ (git-ignored); a
finished sweep is read back, an interrupted one resumes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import amazon_bow  # the binarised .npz copies of the features

from domainfit.io_utils import write_json_atomic

WORK = Path("runs/bench/sweep")
RESULTS = Path(__file__).parent / "results"
TASK = "books->kitchen"
SPACE: dict[str, Any] = {
    "train.lr": {"log_uniform": [1e-4, 1e-2], "grid": [1e-4, 1e-3, 1e-2]},
    "model.head.dropout": {"uniform": [0.0, 0.5], "grid": [0.1, 0.4]},
    "adapt.method": {"choice": ["none", "dann", "mmd", "coral"]},
    "adapt.weight": {
        "log_uniform": [0.03, 3.0],
        "grid": [0.03, 0.3, 3.0],
        "when": {"adapt.method": ["dann", "mmd", "coral"]},
    },
}


def base_config(seed: int, files: tuple[Path, Path]) -> dict[str, Any]:
    src, tgt = files
    return {
        "name": f"bench-sweep-s{seed}",
        "seed": seed,
        "data": {"source": str(src.resolve()), "target": str(tgt.resolve())},
        # both domains 60/20/20: the target's train split is the unlabelled pool
        "split": {"method": "stratified", "train": 0.6, "val": 0.2, "test": 0.2, "seed": 0},
        "preprocess": {"scaler": "none", "impute": "none"},
        "model": {"backbone": "mlp:100", "head": {"dropout": 0.1}},
        "train": {**amazon_bow.MLP_TRAIN, "epochs": 10},
        "adapt": {"select": "last"},
        "track": {"enabled": False, "report": False},
    }


def sweep_section(kind: str) -> dict[str, Any]:
    if kind == "grid":
        return {
            "metric": "target.val.accuracy",
            "sampler": "grid",
            "pruner": "none",
            "params": SPACE,
        }
    return {
        "metric": "target.val.accuracy",
        "sampler": "tpe",
        "pruner": "hyperband",
        "trials": 24,
        "startup_trials": 6,
        "params": SPACE,
    }


def run(kind: str, seed: int, files: tuple[Path, Path]) -> dict[str, Any]:
    import domainfit

    cfg = base_config(seed, files)
    cfg["sweep"] = sweep_section(kind)
    out = WORK / f"{kind}-s{seed}"
    start = time.perf_counter()
    domainfit.sweep(cfg, out=out, quiet=True)
    wall = time.perf_counter() - start
    doc = json.loads((out / "trials.json").read_text())
    best = doc["best"]
    metrics = json.loads((Path(best["run_dir"]) / "metrics.json").read_text())
    return {"doc": doc, "best": best, "test": metrics["target.test.accuracy"], "wall": wall}


def rows_for(kind: str, seed: int, res: dict[str, Any], grid_best: float | None) -> list[dict]:
    doc, best = res["doc"], res["best"]
    method = "grid" if kind == "grid" else "tpe_hyperband"
    values = {
        "best_val_accuracy": round(100 * best["value"], 2),
        "best_test_accuracy": round(100 * res["test"], 2),
        "trial_seconds": doc["compute"]["trial_seconds"],
        "epochs_trained": doc["compute"]["validations"],
        "trials_complete": doc["counts"]["complete"],
        "trials_pruned": doc["counts"]["pruned"],
        "trials_failed": doc["counts"]["failed"],
    }
    if grid_best is not None and kind != "grid":
        reached = within(doc["trials"], grid_best - 0.005)
        if reached is not None:
            values["trials_to_grid_best_minus_0.5"] = reached[0]
            values["seconds_to_grid_best_minus_0.5"] = reached[1]
    params = json.dumps(best["params"], sort_keys=True)
    return [
        {"task": TASK, "method": method, "seed": seed, "metric": k, "value": v, "best": params}
        for k, v in values.items()
    ]


def within(trials: list[dict[str, Any]], target: float) -> tuple[int, float] | None:
    """Trials run, and their seconds, until one reached ``target`` (in trial order)."""
    seconds = 0.0
    for i, t in enumerate(sorted(trials, key=lambda t: t["trial"]), 1):
        seconds += t["seconds"] or 0.0
        if t["value"] is not None and t["value"] >= target:
            return i, round(seconds, 1)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="TPE seeds (the grid runs seed 0)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    domains = amazon_bow.load_domains({"books", "kitchen"})
    files = (domains["books"].train_file, domains["kitchen"].train_file)
    rows: list[dict[str, Any]] = []
    grid = run("grid", 0, files)
    print(f"grid: best val {grid['best']['value']:.4f}, test {grid['test']:.4f}", flush=True)
    rows += rows_for("grid", 0, grid, None)
    for seed in [int(s) for s in args.seeds.split(",")]:
        tpe = run("tpe", seed, files)
        print(f"tpe seed {seed}: best val {tpe['best']['value']:.4f}, test {tpe['test']:.4f}")
        rows += rows_for("tpe", seed, tpe, grid["best"]["value"])
    RESULTS.mkdir(exist_ok=True)
    write_json_atomic(
        RESULTS / "sweep.json",
        {
            "benchmark": "sweep-vs-grid",
            "command": "python benchmarks/sweep.py " + " ".join(sys.argv[1:]),
            "date": dt.date.today().isoformat(),
            "machine": "2-core CPU",
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
