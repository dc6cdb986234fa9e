"""Fine-tuning strategies on the Amazon reviews (raw text, all-MiniLM-L6-v2) with a small label
budget, against a bag-of-words logistic regression and the same network from random weights.

For each target domain: a fixed held-out test set (the same for every seed and method) and, per
seed, ``--budget`` labelled reviews drawn from the rest for training. Exact duplicate reviews are
dropped first so no test review has a copy in training.

Run:   .venv/bin/python benchmarks/strategies.py [--quick] [--targets kitchen,dvd] [--seeds 0,1,2]
Quick: one target (kitchen), one seed (0), one method per family (``QUICK_METHODS``: the
bag-of-words baseline, the frozen backbone, full fine-tuning, LoRA, random init): about 12 CPU
minutes at one thread, measured from the full grid's kitchen seed-0 rows.
Writes benchmarks/results/strategies[_quick].json (format: ../shared/docs/BENCHMARKS.md) after
every finished run; rows already there are kept and skipped, so an interrupted run resumes.
Each run is a child process, so its wall time and peak memory (max RSS) are its own.
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
from typing import Any

import numpy as np
from results_file import append_rows

DOMAINS = ("books", "dvd", "electronics", "kitchen")
TEST_SIZE = 600
WORK = Path("runs/bench/strategies")
RESULTS = Path(__file__).parent / "results"

_COMMON_TRAIN = {"batch_size": 16, "schedule": "linear", "warmup_ratio": 0.1}
# Learning rates and epochs per method: the usual recipe for each, not tuned on the test sets.
METHODS: dict[str, dict[str, Any]] = {
    "linear_probe": {
        "strategy": {"name": "linear_probe"},
        "train": {"epochs": 40, "batch_size": 32, "lr": 1e-2, "schedule": "constant"},
    },
    "full": {"strategy": {"name": "full"}, "train": {"epochs": 5, "lr": 5e-5}},
    "two_stage": {
        "strategy": {"name": "two_stage", "head_epochs": 2, "lr_factor": 0.05},
        "train": {"epochs": 6, "lr": 1e-3},
    },
    "gradual_unfreeze": {
        "strategy": {"name": "gradual_unfreeze", "unfreeze_every": 1},
        "train": {"epochs": 6, "lr": 1e-4},
    },
    "layerwise_lr": {
        "strategy": {"name": "layerwise_lr", "layer_decay": 0.8},
        "train": {"epochs": 5, "lr": 1e-4},
    },
    # Adapters and biases move little per step: their papers train ~10x the full fine-tuning
    # rate for many epochs. At 5e-4 for 5 epochs LoRA stayed at chance (52.8% on kitchen).
    "lora": {"strategy": {"name": "lora"}, "train": {"epochs": 10, "lr": 2e-3}},
    "bitfit": {"strategy": {"name": "bitfit"}, "train": {"epochs": 10, "lr": 2e-3}},
    "scratch": {"strategy": {"name": "full"}, "train": {"epochs": 5, "lr": 1e-4}},
    "bow_logreg": {},
}
# one per family: bag-of-words, frozen backbone, full fine-tuning, PEFT, random init
QUICK_METHODS = ("bow_logreg", "linear_probe", "full", "lora", "scratch")


def task_data(target: str, seed: int, budget: int) -> Path:
    """CSV of ``budget`` training reviews (this seed) and the fixed test set of ``target``."""
    out = WORK / "data" / f"{target}-s{seed}-b{budget}.csv"
    if out.is_file():
        return out
    import pandas as pd

    from domainfit import load_data

    ds = load_data(f"amazon-reviews:{target}")
    frame = pd.DataFrame({"text": list(ds.inputs), "label": np.asarray(ds.labels)})
    frame = frame.drop_duplicates("text").reset_index(drop=True)
    order = np.random.default_rng(12345).permutation(len(frame))  # the same test set always
    test, pool = order[:TEST_SIZE], order[TEST_SIZE:]
    train = np.random.default_rng(seed).choice(pool, size=budget, replace=False)
    frame["split"] = ""
    frame.loc[test, "split"] = "test"
    frame.loc[train, "split"] = "train"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame[frame["split"] != ""].to_csv(out, index=False)
    return out


def random_minilm(seed: int) -> Path:
    """all-MiniLM-L6-v2's architecture and tokenizer with freshly initialised weights."""
    folder = WORK / "models" / f"minilm-random-s{seed}"
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import AutoConfig, AutoModel

    from domainfit.models.specs import minilm_path

    src = Path(minilm_path())
    torch.manual_seed(seed)
    model = AutoModel.from_config(AutoConfig.from_pretrained(src))
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (src / name).is_file():
            shutil.copy2(src / name, tmp / name)
    tmp.replace(folder)
    return folder


def run_one(target: str, seed: int, method: str, budget: int, max_length: int) -> dict[str, Any]:
    csv = task_data(target, seed, budget)
    start = time.perf_counter()
    accuracy = _bow_logreg(csv) if method == "bow_logreg" else _fit(csv, seed, method, max_length)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "accuracy": accuracy,
        "seconds": time.perf_counter() - start,
        # CPU time does not grow when other jobs share the cores; at one thread it is the wall
        # time the run would take alone
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
    }


def _bow_logreg(csv: Path) -> float:
    import pandas as pd
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    frame = pd.read_csv(csv)
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    vec = CountVectorizer(binary=True, ngram_range=(1, 2), min_df=1)
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(
        vec.fit_transform(train["text"]), train["label"]
    )
    return float((clf.predict(vec.transform(test["text"])) == test["label"]).mean())


def _fit(csv: Path, seed: int, method: str, max_length: int) -> float:
    import domainfit
    from domainfit.progress import silenced

    spec = METHODS[method]
    backbone = f"hf:{random_minilm(seed)}" if method == "scratch" else "minilm"
    cfg = {
        "name": f"bench-{method}",
        "seed": seed,
        "data": {"source": {"spec": str(csv), "text": "text", "label": "label", "split": "split"}},
        "split": {"method": "predefined"},
        "model": {"backbone": backbone, "max_length": max_length},
        "strategy": spec["strategy"],
        "train": {**_COMMON_TRAIN, **spec["train"]},
        "track": {"enabled": False},
    }
    with tempfile.TemporaryDirectory(dir=WORK) as tmp, silenced():
        run = domainfit.fit(cfg, out=Path(tmp) / "run")
    return float(run.metrics["source.test.accuracy"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="kitchen, seed 0, 5 methods")
    parser.add_argument("--targets", default=",".join(DOMAINS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=None, help="default: all (--quick: QUICK_METHODS)")
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="torch threads per run (1 keeps timings steady beside other work)",
    )
    parser.add_argument(
        "--one", nargs=3, metavar=("TARGET", "SEED", "METHOD"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.one:
        target, seed, method = args.one
        import torch

        torch.set_num_threads(args.threads)
        row = run_one(target, int(seed), method, args.budget, args.max_length)
        print("ROW " + json.dumps(row))
        return 0
    targets = ["kitchen"] if args.quick else args.targets.split(",")
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    default = QUICK_METHODS if args.quick else METHODS
    methods = args.methods.split(",") if args.methods else list(default)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        print(f"unknown methods {unknown}; known: {', '.join(METHODS)}", file=sys.stderr)
        return 2
    suffix = "_quick" if args.quick else ""
    out = RESULTS / f"strategies{suffix}.json"
    doc = _load(out, args, suffix)
    done = {(r["task"], r["method"], r["seed"]) for r in doc["rows"]}
    todo = [(t, s, m) for t in targets for s in seeds for m in methods]
    for i, (target, seed, method) in enumerate(todo, 1):
        task = f"amazon-reviews:{target}"
        if (task, method, seed) in done:
            continue
        cmd = [sys.executable, __file__, "--one", target, str(seed), method]
        cmd += ["--budget", str(args.budget), "--max-length", str(args.max_length)]
        cmd += ["--threads", str(args.threads)]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("ROW ")]
        if proc.returncode != 0 or not lines:
            print(f"[{i}/{len(todo)}] {task} {method} seed {seed} FAILED:\n{proc.stderr[-2000:]}")
            continue
        res = json.loads(lines[-1][4:])
        new_rows = []
        for metric, value in (
            ("accuracy", round(100 * res["accuracy"], 2)),
            ("peak_mb", round(res["peak_mb"], 1)),
        ):
            new_rows.append(
                {
                    "task": task,
                    "method": method,
                    "seed": seed,
                    "metric": metric,
                    "value": value,
                    "seconds": round(res["seconds"], 1),
                    "cpu_seconds": round(res["cpu_seconds"], 1),
                    "threads": args.threads,
                }
            )
        append_rows(out, doc, new_rows)
        print(
            f"[{i}/{len(todo)}] {task} {method} seed {seed}: "
            f"{100 * res['accuracy']:.2f}% in {res['seconds']:.0f} s, {res['peak_mb']:.0f} MB"
        )
    print(summary(doc["rows"]))
    return 0


def _load(out: Path, args: argparse.Namespace, suffix: str) -> dict[str, Any]:
    if out.is_file():
        return json.loads(out.read_text())
    command = "python benchmarks/strategies.py" + (" --quick" if args.quick else "")
    return {
        "benchmark": f"strategies{suffix}",
        "command": command,
        "date": dt.date.today().isoformat(),
        "machine": "2-core CPU",
        "setup": {
            "backbone": "all-MiniLM-L6-v2 (scratch: same architecture, random weights)",
            "budget": args.budget,
            "test_size": TEST_SIZE,
            "max_length": args.max_length,
            "methods": METHODS,
        },
        "rows": [],
    }


def summary(rows: list[dict[str, Any]]) -> str:
    """Markdown table: accuracy mean ± std over seeds per task and method, with seconds."""
    acc: dict[tuple[str, str], list[float]] = {}
    secs: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r["metric"] == "accuracy":
            acc.setdefault((r["task"], r["method"]), []).append(r["value"])
            # CPU seconds where recorded: wall time grew when other jobs shared the cores
            secs.setdefault((r["task"], r["method"]), []).append(r.get("cpu_seconds", r["seconds"]))
    lines = [
        "| target | method | accuracy (mean ± std) | seeds | CPU seconds (mean) |",
        "|---|---|---:|---:|---:|",
    ]
    for (task, method), values in sorted(acc.items()):
        v = np.asarray(values)
        std = v.std(ddof=1) if len(v) > 1 else 0.0
        lines.append(
            f"| {task.split(':')[1]} | {method} | {v.mean():.2f} ± {std:.2f} | {len(v)} | "
            f"{np.mean(secs[(task, method)]):.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
