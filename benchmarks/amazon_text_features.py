"""Unsupervised domain adaptation on the Amazon reviews' raw text, on frozen all-MiniLM-L6-v2
sentence embeddings: the CPU-sized counterpart of ``amazon_text.py`` (which fine-tunes MiniLM).

12 tasks source -> target over books, dvd, electronics, kitchen. Each domain's 2,000 labelled
reviews are embedded once with ``domainfit.embed`` (MiniLM, masked mean pooling, 256 tokens,
L2-normalised as the model is meant to be used, then scaled by sqrt(384) so a coordinate is of
unit order; cached under runs/bench/). Protocol: the source's 2,000 reviews are labelled (10%
held out for validation where a method needs it); the target's 2,000 reviews are the unlabelled
pool and the test set (transductive, as in the DANN/JDA benchmarks). Methods:

- ``lr_source``: logistic regression, C by 5-fold source cross-validation.
- ``coral_lr``, ``sa_lr``: CORAL re-colouring / subspace alignment (``domainfit.adapt.classic``)
  then the logistic regression with ``lr_source``'s C.
- ``mlp_source``: ``domainfit.fit`` with ``mlp:100``, learning rate by source validation.
- ``dann``, ``coral``, ``mmd``: the same network and rate plus the adaptation loss; the weight
  among ``WEIGHTS`` by information maximisation on the target pool (SND's pick recorded too).
- ``mlp_selftrain``: the same network plus class-balanced self-training (fixed settings).

Every choice is made without target labels; each row group also records what an oracle reading
the target labels would have picked from the same candidates (``accuracy_oracle``).

Run:   .venv/bin/python benchmarks/amazon_text_features.py [--quick] [--tasks B->K] [--seeds 0]
       [--layer 4]  (pool that layer's output instead of the last: results file _layer4)
Quick: B->K and K->B, seed 0.
Writes benchmarks/results/amazon_text_features[_quick].json (format: ../shared/docs/BENCHMARKS.md)
after every unit of work; rows already there are skipped, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import amazon_bow as bow  # the 5000-d benchmark's runners, reused on other features
import numpy as np

DOMAINS = bow.DOMAINS
TASKS = bow.TASKS
QUICK_TASKS = ["B->K", "K->B"]
WORK = Path("runs/bench/amazon_text_features")
RESULTS = Path(__file__).parent / "results"
METHODS = (
    "lr_source",
    "coral_lr",
    "sa_lr",
    "mlp_source",
    "dann",
    "coral",
    "mmd",
    "mlp_selftrain",
)
DETERMINISTIC = ("lr_source", "coral_lr", "sa_lr")
WEIGHTS = (0.1, 0.3, 1.0)
MAX_LENGTH = 256
SA_DIM = 100


def load_domains(names: set[str], layer: int | None) -> dict[str, bow.Domain]:
    """MiniLM embeddings per domain, as ``amazon_bow.Domain``s whose test set is the pool."""
    import domainfit

    folder = WORK / ("data" if layer is None else f"data-layer{layer}")
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in sorted(names):
        path = folder / f"{name}.npz"
        if not path.is_file():
            ds = domainfit.load_data(f"amazon-reviews:{name}")
            start = time.perf_counter()
            x = domainfit.embed(
                ds, "minilm", max_length=MAX_LENGTH, cache_dir=WORK / "cache", layer=layer
            )
            x = x / np.linalg.norm(x, axis=1, keepdims=True) * np.sqrt(x.shape[1])
            y = np.asarray(ds.labels, dtype=np.int64)
            tmp = path.with_name(path.stem + ".tmp.npz")
            np.savez(tmp, X=x.astype(np.float32), y=y)
            tmp.replace(path)
            print(f"embedded {name}: {x.shape} in {time.perf_counter() - start:.0f} s", flush=True)
        with np.load(path) as f:
            x, y = f["X"].astype(np.float64), f["y"]
        out[name] = bow.Domain(x, y, x, y, path, path)
    return out


def run_classic(task: str, method: str, c: float, data: dict[str, bow.Domain]) -> dict:
    """CORAL or SA, then logistic regression with the source-chosen C (no choice left)."""
    from domainfit.adapt.classic import adapt_and_classify

    s, t = bow.split_task(task)
    params = {"dim": SA_DIM} if method == "sa" else {}
    with bow.blas_threads(1):
        res = adapt_and_classify(method, data[s].x, data[s].y, data[t].x, "logreg", c, **params)
    return {"accuracy": float((res.predictions == data[t].y).mean()), "selected": {"C": c}}


def run_grid(
    out: Path,
    doc: dict[str, Any],
    data: dict[str, bow.Domain],
    tasks: list[str],
    seeds: list[int],
    methods: list[str],
    domains: dict[str, str],
    deep: tuple[str, ...],
) -> None:
    """Every (task, method, seed) of the grid not yet in ``doc``: the deterministic methods
    once, then per seed and source domain the source MLP (its learning rate is every adapted
    run's), the ``deep`` adaptation losses and self-training. Rows are written as they come."""
    done = {(r["task"], r["method"], r["seed"]) for r in doc["rows"]}

    def missing(task: str, method: str, seed: int) -> bool:
        return method in methods and (task, method, seed) not in done

    def record(task: str, method: str, seed: int, res: dict[str, Any], seconds: float) -> None:
        bow.append_rows(out, doc, bow.rows_for(task, method, seed, res, seconds))
        done.add((task, method, seed))
        orc = f", oracle {100 * res['accuracy_oracle']:.2f}" if "accuracy_oracle" in res else ""
        print(
            f"{task} {method} seed {seed}: {100 * res['accuracy']:.2f} "
            f"{res.get('selected', {})}{orc} ({seconds:.0f} s)",
            flush=True,
        )

    for task in tasks:
        lr_row = next(
            (r for r in doc["rows"] if (r["task"], r["method"]) == (task, "lr_source")), None
        )
        if missing(task, "lr_source", 0):
            t0 = time.perf_counter()
            res = bow.run_lr_source(task, data)
            record(task, "lr_source", 0, res, time.perf_counter() - t0)
            lr_row = {"selected": res["selected"]}
        for method, name in (("coral", "coral_lr"), ("sa", "sa_lr")):
            if missing(task, name, 0) and lr_row is not None:
                t0 = time.perf_counter()
                res = run_classic(task, method, lr_row["selected"]["C"], data)
                record(task, name, 0, res, time.perf_counter() - t0)

    chosen_lr: dict[tuple[str, int], float] = {}
    for r in doc["rows"]:
        if r["method"] == "mlp_source" and r["metric"] == "accuracy":
            chosen_lr[(bow.split_task(r["task"])[0], r["seed"])] = r["selected"]["lr"]
    for seed in seeds:
        for s_short, source in domains.items():
            mine = [t for t in tasks if t.startswith(s_short + "->")]
            if not mine:
                continue
            todo = [t for t in mine if missing(t, "mlp_source", seed)]
            later = any(missing(t, m, seed) for t in mine for m in (*deep, "mlp_selftrain"))
            if todo or (later and (source, seed) not in chosen_lr):
                targets = [bow.split_task(t)[1] for t in mine]
                res = bow.run_mlp_source(source, targets, seed, data)
                chosen_lr[(source, seed)] = res[targets[0]]["selected"]["lr"]
                for task in todo:
                    per = res[bow.split_task(task)[1]]
                    record(task, "mlp_source", seed, per, per["seconds"])
            lr = chosen_lr.get((source, seed))
            if lr is None:
                continue
            for task in mine:
                for method in deep:
                    if missing(task, method, seed):
                        res = bow.run_adapt(task, method, seed, lr, data, WEIGHTS)
                        record(task, method, seed, res, res["seconds"])
                if missing(task, "mlp_selftrain", seed):
                    res = bow.run_mlp_selftrain(task, seed, lr, data)
                    record(task, "mlp_selftrain", seed, res, res["seconds"])


def load_doc(out: Path, quick: bool) -> dict[str, Any]:
    if out.is_file():
        doc: dict[str, Any] = json.loads(out.read_text())
        return doc
    name = "amazon_text_features" + ("_quick" if quick else "")
    return {
        "benchmark": name,
        "command": "python benchmarks/amazon_text_features.py" + (" --quick" if quick else ""),
        "date": dt.date.today().isoformat(),
        "machine": "2-core CPU",
        "setup": {
            "protocol": "source: 2000 labelled raw-text reviews; target: the other domain's 2000 "
            "reviews, unlabelled pool and test set (transductive); frozen all-MiniLM-L6-v2 "
            f"embeddings (mean pooling, {MAX_LENGTH} tokens, L2-normalised x sqrt(384))",
            "selection": "accuracy: chosen without target labels (source CV / source "
            "validation / IM on the target pool); accuracy_snd: weight by SND; "
            "accuracy_oracle: best candidate by target accuracy",
            "C_grid": bow.C_GRID,
            "lr_grid": bow.LR_GRID,
            "weights": WEIGHTS,
            "sa_dim": SA_DIM,
            "mlp": {"backbone": "mlp:100", "train": bow.MLP_TRAIN, "val": 0.1},
            "self_training": bow.SELF_TRAINING,
        },
        "rows": [],
    }


def summary(
    rows: list[dict[str, Any]],
    all_methods: tuple[str, ...] = METHODS,
    all_tasks: list[str] | None = None,
) -> str:
    """Markdown table: per task and method, mean label-free accuracy (oracle in brackets)."""
    cells: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        cells.setdefault((r["task"], r["method"], r["metric"]), []).append(r["value"])
    methods = [m for m in all_methods if any(k[1] == m for k in cells)]
    tasks = [t for t in all_tasks or TASKS if any(k[0] == t for k in cells)]
    lines = ["| task | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    cols: dict[str, list[float]] = {}
    for task in tasks:
        line = f"| {task} |"
        for m in methods:
            acc = cells.get((task, m, "accuracy"), [])
            orc = cells.get((task, m, "accuracy_oracle"), [])
            a = float(np.mean(acc)) if acc else np.nan
            cols.setdefault(m, []).append(a)
            cols.setdefault(m + "/o", []).append(float(np.mean(orc)) if orc else np.nan)
            line += f" {a:.2f} ({np.mean(orc):.2f}) |" if orc else f" {a:.2f} |"
        lines.append(line)
    avg = "| **average** |"
    for m in methods:
        a, o = np.mean(cols[m]), np.mean(cols[m + "/o"])
        avg += f" **{a:.2f}** ({o:.2f}) |" if np.isfinite(o) else f" **{a:.2f}** |"
    lines.append(avg)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B->K and K->B, seed 0")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--layer", type=int, default=None, help="MiniLM layer to pool (default: the last)"
    )
    args = parser.parse_args()
    tasks = QUICK_TASKS if args.quick else args.tasks.split(",")
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(METHODS)) + sorted(set(tasks) - set(TASKS))
    if unknown:
        print(f"unknown methods/tasks {unknown}; known: {METHODS}, {TASKS}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    bow.WORK = WORK  # the reused runners keep their temporary run folders under ours
    bow._silence_reports()
    suffix = ("" if args.layer is None else f"_layer{args.layer}") + (
        "_quick" if args.quick else ""
    )
    out = RESULTS / f"amazon_text_features{suffix}.json"
    doc = load_doc(out, args.quick)
    if args.layer is not None:
        doc["setup"]["layer"] = args.layer
        doc["command"] += f" --layer {args.layer}"
    start = time.perf_counter()
    data = load_domains({d for task in tasks for d in bow.split_task(task)}, args.layer)
    print(f"data ready ({time.perf_counter() - start:.0f} s)", flush=True)
    run_grid(out, doc, data, tasks, seeds, methods, DOMAINS, ("dann", "coral", "mmd"))
    shutil.rmtree(WORK / "tmp", ignore_errors=True)
    print(f"wall time of this invocation: {time.perf_counter() - start:.0f} s")
    print(summary([r for r in doc["rows"] if r["task"] in tasks]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
