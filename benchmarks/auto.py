"""``domainfit auto`` under a wall-time budget against AutoGluon and the best hand-picked recipe.

Tasks (``auto_tasks.TASKS``; each keeps the splits of the benchmark it is compared with):
- ``kitchen-200``: 200 labelled kitchen reviews, the fixed 600-review test set (strategies.py);
- ``books->kitchen``: 2,000 labelled books reviews, kitchen's 2,000 unlabelled (amazon_text.py);
- ``office-caltech:A->W``: SURF features (office_caltech.py); ``pacs:P->A``: photo -> art
  painting images with EfficientNet-Lite0 (pacs_uda.py).
Methods:
- ``domainfit_auto``: ``domainfit auto SOURCE [--target T] --budget B``; its winner, chosen
  without target labels, predicts the test set (``domainfit.predict``);
- ``autogluon``: AutoGluon ``MultiModalPredictor`` (text tasks) in its own virtualenv
  (``peers/requirements.py``), pointed at the same local MiniLM folder, ``time_limit`` = budget,
  trained on the same labelled rows, predicting the same test set;
- ``best_hand_picked``: read from the compared benchmark's results (no run).
With both runs of a seed present, the row of ``domainfit_auto`` carries the paired bootstrap
interval of its accuracy minus AutoGluon's on the same test reviews.

Each run is a child process pinned to ``--core`` with one thread, so two runs share the 2-core
machine without slowing each other: run the methods side by side on cores 0 and 1.
Run:   .venv/bin/python benchmarks/auto.py --tasks kitchen-200 --methods domainfit_auto --core 0
Results: benchmarks/results/auto.json (../shared/docs/BENCHMARKS.md), written after every run;
rows already there are skipped (``--redo`` reruns), run folders stay in runs/bench/auto/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from auto_tasks import RESULTS, TASKS, WORK, Task, best_hand_picked, prepare
from results_file import append_rows

METHODS = ("domainfit_auto", "autogluon", "best_hand_picked")
OUT = RESULTS / "auto.json"
ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    one = {k: "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    offline = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "0"}
    return {**os.environ, **one, **offline}


def _pinned(cmd: list[str], core: int | None) -> list[str]:
    return (["taskset", "-c", str(core)] if core is not None else []) + cmd


def _run(cmd: list[str], log: Path, core: int | None) -> float:
    start = time.perf_counter()
    with log.open("w") as fh:
        done = subprocess.run(
            _pinned(cmd, core), stdout=fh, stderr=subprocess.STDOUT, env=_env(), check=False
        )
    if done.returncode != 0:
        tail = log.read_text().strip().splitlines()[-3:]
        raise RuntimeError(f"{cmd[:3]} failed ({done.returncode}): {' | '.join(tail)}")
    return time.perf_counter() - start


def _test_labels(test: str) -> np.ndarray:
    import domainfit

    ds = domainfit.load_data(test)
    return np.asarray([str(v) for v in ds.labels])


def run_domainfit(task: Task, seed: int, core: int | None) -> dict[str, Any]:
    data = prepare(task, seed)
    folder = WORK / "runs" / f"{_slug(task.name)}-domainfit-s{seed}"
    cmd = [str(ROOT / ".venv/bin/domainfit"), "auto", data["source"], *data["columns"]]
    cmd += ["--target", data["target"]] if data["target"] else []
    cmd += ["--budget", task.budget, "--out", str(folder), "--set", f"seed={seed}"]
    folder.parent.mkdir(parents=True, exist_ok=True)
    if (folder / "auto.json").is_file():  # a finished run: --redo starts afresh
        shutil.rmtree(folder)
    # a folder left by a killed run (no auto.json yet) is resumed: the same command continues it
    seconds = _run(cmd, folder.parent / f"{folder.name}.log", core)
    doc = json.loads((folder / "auto.json").read_text())
    winner = doc["winner"]
    import domainfit

    refit = doc.get("final", {}).get("refit") or {}
    # the exported model: the winner's recipe refit on every labelled row, when auto did so
    preds = domainfit.predict(folder / (refit.get("dir") or winner["dir"]), data["test"])
    pred = preds["prediction"].astype(str).to_numpy()
    np.save(folder / "test_predictions.npy", pred.astype(str))  # no object array: no pickle
    truth = preds["label"].astype(str).to_numpy()
    return {
        "value": round(100 * float((pred == truth).mean()), 2),
        "seconds": round(seconds, 1),
        "budget": task.budget,
        "winner": {k: winner.get(k) for k in ("id", "title", "model", "strategy", "method")},
        "auto_seconds": doc.get("seconds"),
        "refit": refit.get("dir") is not None,
    }


def run_autogluon(task: Task, seed: int, core: int | None) -> dict[str, Any]:
    if task.kind != "text":
        raise ValueError("the AutoGluon runs cover the text tasks (MultiModalPredictor + MiniLM)")
    sys.path.insert(0, str(Path(__file__).parent / "peers"))
    from requirements import AUTOGLUON_REQUIREMENTS
    from venvs import peer_python

    from domainfit.models.specs import minilm_path

    python = peer_python("autogluon", AUTOGLUON_REQUIREMENTS, pypi_only=True)
    data = prepare(task, seed)
    folder = WORK / "runs" / f"{_slug(task.name)}-autogluon-s{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    limit = _seconds(task.budget)
    script = Path(__file__).parent / "peers" / "autogluon_run.py"
    cmd = [str(python), str(script), data["source"], data["test"], str(folder)]
    cmd += ["--model", str(minilm_path()), "--time-limit", str(limit), "--seed", str(seed)]
    folder.mkdir(parents=True)
    seconds = _run(cmd, WORK / "runs" / f"{folder.name}.log", core)
    import pandas as pd

    pred = pd.read_csv(folder / "predictions.csv")["prediction"].astype(str).to_numpy()
    np.save(folder / "test_predictions.npy", pred.astype(str))  # no object array: no pickle
    truth = _test_labels(data["test"])
    run = json.loads((folder / "run.json").read_text())
    shutil.rmtree(folder / "predictor", ignore_errors=True)  # ~90 MB of checkpoints
    return {
        "value": round(100 * float((pred == truth).mean()), 2),
        "seconds": round(seconds, 1),
        "budget": task.budget,
        "fit_seconds": round(run["fit_seconds"], 1),
    }


def paired(task: Task, seed: int) -> dict[str, Any] | None:
    """domainfit_auto minus autogluon on the same test samples, when both runs are there."""
    from domainfit.evaluate.bootstrap import paired_comparison

    files = [
        WORK / "runs" / f"{_slug(task.name)}-{m}-s{seed}" / "test_predictions.npy"
        for m in ("domainfit", "autogluon")
    ]
    if not all(f.is_file() for f in files):
        return None
    a, b = (np.load(f, allow_pickle=False) for f in files)
    truth = _test_labels(prepare(task, seed)["test"])
    classes = sorted(set(truth) | set(a) | set(b))
    onehot = [np.eye(len(classes))[[classes.index(v) for v in p]] for p in (a, b)]
    y = np.asarray([classes.index(v) for v in truth])
    cmp = paired_comparison(y, onehot[0], onehot[1], rounds=2000)
    return {
        "vs_autogluon": round(100 * cmp.diff, 2),
        "vs_autogluon_ci95": [round(100 * cmp.ci[0], 2), round(100 * cmp.ci[1], 2)],
        "vs_autogluon_p_mcnemar": cmp.p_mcnemar,
    }


def _seconds(budget: str) -> int:
    from domainfit.auto.budget import parse_budget

    return int(parse_budget(budget))


def _slug(name: str) -> str:
    return name.replace("->", "-to-").replace(":", "-")


def _doc() -> dict[str, Any]:
    if OUT.is_file():
        return json.loads(OUT.read_text())
    return {
        "benchmark": "auto",
        "command": "python benchmarks/auto.py --methods M --tasks T --seeds S --core C",
        "date": dt.date.today().isoformat(),
        "machine": "2-core CPU; each run pinned to one core, one thread",
        "setup": {n: {"budget": t.budget, "compared": t.results} for n, t in TASKS.items()},
        "rows": [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--core", type=int, default=None, help="pin each run to this CPU core")
    parser.add_argument("--redo", action="store_true", help="rerun rows already in the results")
    parser.add_argument("--summary", action="store_true", help="print the README table only")
    args = parser.parse_args()
    if args.summary:
        print(summary(json.loads(OUT.read_text())["rows"]))
        return 0
    tasks, methods = args.tasks.split(","), args.methods.split(",")
    bad = sorted(set(tasks) - set(TASKS)) + sorted(set(methods) - set(METHODS))
    if bad:
        print(f"unknown {bad}; tasks: {list(TASKS)}, methods: {list(METHODS)}", file=sys.stderr)
        return 2
    doc = _doc()
    for name in tasks:
        task = TASKS[name]
        if "best_hand_picked" in methods:
            recipe, values = best_hand_picked(task)
            rows = [
                _row(task, "best_hand_picked", s, {"value": v, "recipe": recipe})
                for s, v in values.items()
            ]
            append_rows(
                OUT,
                doc,
                rows,
                lambda r, n=name: r["task"] == n and r["method"] == "best_hand_picked",
            )
        for method in (m for m in methods if m != "best_hand_picked"):
            for seed in (int(s) for s in args.seeds.split(",")):
                done = {(r["task"], r["method"], r["seed"]) for r in _doc()["rows"]}
                if (name, method, seed) in done and not args.redo:
                    continue
                runner = run_domainfit if method == "domainfit_auto" else run_autogluon
                print(f"{name} {method} seed {seed} ({task.budget}) ...", flush=True)
                res = runner(task, seed, args.core)
                print(f"  accuracy {res['value']} in {res['seconds']} s", flush=True)
                append_rows(OUT, doc, [_row(task, method, seed, res)], _same(name, method, seed))
            _pair_rows(task, doc, args.seeds)
    return 0


def _pair_rows(task: Task, doc: dict[str, Any], seeds: str) -> None:
    """Add the paired interval to each domainfit_auto row whose AutoGluon twin exists."""
    rows = json.loads(OUT.read_text())["rows"] if OUT.is_file() else []
    for row in rows:
        if row["task"] != task.name or row["method"] != "domainfit_auto":
            continue
        extra = paired(task, int(row["seed"]))
        if extra and row.get("vs_autogluon") != extra["vs_autogluon"]:
            row.update(extra)
            append_rows(OUT, doc, [row], _same(task.name, "domainfit_auto", row["seed"]))


def _same(task: str, method: str, seed: int) -> Any:
    return lambda r: (r["task"], r["method"], r["seed"]) == (task, method, seed)


def summary(rows: list[dict[str, Any]]) -> str:
    """The README table: one line per task and seed."""
    lines = [
        "| task | seed | best hand-picked | domainfit auto (winner) | AutoGluon | auto - AutoGluon "
        "(95% CI) | auto wall time / budget |",
        "|---|---|---|---|---|---|---|",
    ]
    by = {(r["task"], r["method"], r["seed"]): r for r in rows}
    for name, task in TASKS.items():
        for seed in sorted({r["seed"] for r in rows if r["task"] == name}):
            hand = by.get((name, "best_hand_picked", seed))
            mine = by.get((name, "domainfit_auto", seed))
            peer = by.get((name, "autogluon", seed))
            if mine is None:
                continue
            winner = (mine.get("winner") or {}).get("title", "?")
            winner += ", refit on all labelled rows" if mine.get("refit") else ""
            ci = mine.get("vs_autogluon_ci95")
            diff = f"{mine['vs_autogluon']:+.2f} ({ci[0]:+.2f} to {ci[1]:+.2f})" if ci else "-"
            lines.append(
                f"| {name} | {seed} | {hand['value']:.2f} ({hand['recipe']}) | "
                if hand
                else f"| {name} | {seed} | - | "
            )
            lines[-1] += (
                f"{mine['value']:.2f} ({winner}) | {peer['value']:.2f} | "
                if peer
                else f"{mine['value']:.2f} ({winner}) | - | "
            )
            lines[-1] += f"{diff} | {mine['seconds'] / 60:.1f} / {task.budget} |"
    return "\n".join(lines)


def _row(task: Task, method: str, seed: int, res: dict[str, Any]) -> dict[str, Any]:
    return {"task": task.name, "method": method, "seed": seed, "metric": "accuracy", **res}


if __name__ == "__main__":
    raise SystemExit(main())
