"""Does ``domainfit rank`` order pretrained models the way fine-tuning does? MNIST -> USPS.

Candidates: the same small CNN (timm resnet10t, 16x16 digits) pretrained on MNIST (test set) to
different degrees -- 150, 500, 2000 and 10000 images for 3 epochs, 10000 images for 1 epoch --
plus its randomly initialised twin.
Each is scored by ``domainfit rank`` on the 200 labelled USPS training digits (LogME, H-score,
k-NN and linear-probe CV; LEEP and NCE through each pretrained model's own MNIST head), then
fine-tuned on those 200 digits (strategy full, 3 seeds) and tested on the held-out USPS digits.
Per score: Kendall's tau-b between the score and the mean fine-tuned accuracy over candidates
(TLlib reports 0.50-0.79 for LogME on its vision benchmarks).

Run:   .venv/bin/python benchmarks/ranking.py [--seeds 0,1,2] [--threads 1]
Writes benchmarks/results/ranking.json (format: ../shared/docs/BENCHMARKS.md); pretrained runs
and fine-tuning runs live under runs/bench/ranking/ (git-ignored) and are reused when present.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from domainfit.io_utils import write_json_atomic

WORK = Path("runs/bench/ranking")
RESULTS = Path(__file__).parent / "results" / "ranking.json"
IMAGE = 16
# name -> (MNIST images, epochs); None: the randomly initialised twin
PRETRAIN: dict[str, tuple[int, int] | None] = {
    "random": None,
    "mnist150": (150, 3),
    "mnist500": (500, 3),
    "mnist2000": (2000, 3),
    "mnist10000x1": (10000, 1),
    "mnist10000": (10000, 3),
}
FINETUNE = {"epochs": 15, "batch_size": 32, "lr": 1e-3, "optimizer": "adamw", "schedule": "cosine"}


def _no_reports() -> None:
    importlib.import_module("domainfit.fit").write_report = lambda *a, **k: None


def pretrain(name: str, limit: int, epochs: int) -> Path:
    import domainfit

    out = WORK / "pre" / name
    if (out / "model" / "model.safetensors").is_file():
        return out
    shutil.rmtree(out, ignore_errors=True)
    cfg = {
        "name": f"pre-{name}",
        "seed": 0,
        "data": {"source": "mnist-test", "limit": limit},
        "split": {"method": "stratified", "train": 0.9, "val": 0.1, "test": 0.0},
        "model": {"backbone": "timm:resnet10t", "image_size": IMAGE},
        "strategy": {"name": "full"},
        "train": {"epochs": epochs, "batch_size": 64, "lr": 2e-3, "optimizer": "adamw"},
        "track": {"enabled": False},
    }
    start = time.perf_counter()
    run = domainfit.fit(cfg, out=out)
    print(
        f"pretrained {name}: MNIST val acc {run.metrics['source.val.accuracy']:.3f} "
        f"({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    return out


def target_config(seed: int, weights: Path | None) -> dict[str, Any]:
    model: dict[str, Any] = {"backbone": "timm:resnet10t", "image_size": IMAGE}
    if weights is not None:
        model["weights"] = str(weights / "model" / "model.safetensors")
    return {
        "name": "usps",
        "seed": seed,
        "data": {"source": "usps-test"},
        # the same 200 labelled digits for every candidate and seed; ~1700 held out
        "split": {"method": "stratified", "train": 0.1, "val": 0.05, "test": 0.85, "seed": 0},
        "model": model,
        "strategy": {"name": "full", "cache_dir": str(WORK / "cache")},
        "train": FINETUNE,
        "track": {"enabled": False},
    }


def finetune(name: str, seed: int, weights: Path | None) -> float:
    import domainfit

    out = WORK / "ft" / f"{name}-s{seed}"
    shutil.rmtree(out, ignore_errors=True)
    run = domainfit.fit(target_config(seed, weights), out=out)
    acc = float(run.metrics["source.test.accuracy"])
    shutil.rmtree(out, ignore_errors=True)
    return acc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    import torch

    import domainfit.api as api
    from domainfit.progress import silenced
    from domainfit.rank.scores import kendall_tau

    torch.set_num_threads(args.threads)
    _no_reports()
    start = time.perf_counter()
    runs = {
        name: (pretrain(name, *spec) if spec is not None else None)
        for name, spec in PRETRAIN.items()
    }
    candidates = {
        name: (f"run:{path}" if path is not None else "timm:resnet10t")
        for name, path in runs.items()
    }
    with silenced():
        ranking = api.rank(target_config(0, None), candidates=list(candidates.values()))
    scores = {r.name: r.scores for r in ranking.rows}
    rows: list[dict[str, Any]] = []
    accuracy: dict[str, float] = {}
    for name, path in runs.items():
        accs = []
        for seed in seeds:
            t0 = time.perf_counter()
            with silenced():
                acc = finetune(name, seed, path)
            accs.append(acc)
            rows.append(
                {
                    "task": "mnist->usps",
                    "method": name,
                    "seed": seed,
                    "metric": "finetuned_accuracy",
                    "value": round(100 * acc, 2),
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
            print(f"{name} seed {seed}: fine-tuned USPS accuracy {acc:.4f}", flush=True)
        accuracy[name] = float(np.mean(accs))
        for score, value in scores[candidates[name]].items():
            rows.append(
                {
                    "task": "mnist->usps",
                    "method": name,
                    "seed": 0,
                    "metric": f"score_{score}",
                    "value": round(value, 6),
                }
            )
    names = list(runs)
    for score in ("logme", "hscore", "knn", "linear_probe", "leep", "nce"):
        have = [n for n in names if score in scores[candidates[n]]]
        tau = kendall_tau([scores[candidates[n]][score] for n in have], [accuracy[n] for n in have])
        rows.append(
            {
                "task": "mnist->usps",
                "method": score,
                "seed": 0,
                "metric": "kendall_tau",
                "value": round(tau, 4),
                "candidates": len(have),
            }
        )
        print(f"Kendall tau {score}: {tau:.3f} over {len(have)} candidates", flush=True)
    doc = {
        "benchmark": "ranking",
        "command": "python benchmarks/ranking.py --seeds " + args.seeds,
        "date": dt.date.today().isoformat(),
        "machine": "2-core CPU",
        "setup": {
            "candidates": {n: PRETRAIN[n] for n in names},
            "pretraining": "timm resnet10t from random init on the MNIST test set (limit images, "
            "epochs), 16x16, AdamW 2e-3",
            "scoring": "domainfit rank on the 200 labelled USPS training digits",
            "finetune": FINETUNE,
            "recommendation": ranking.recommendation,
            "costs": {r.name: r.cost for r in ranking.rows},
        },
        "rows": rows,
    }
    write_json_atomic(RESULTS, doc)
    print(f"wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
