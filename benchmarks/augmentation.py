"""What each augmentation family does to transfer: MNIST -> USPS and Amazon books -> kitchen.

Digits: LeNet (``digits_nets.py``) trained on the 10,000 MNIST test digits (10% validation),
no adaptation loss, evaluated on all 2,007 USPS test digits (the target, never trained on; the
domain-adaptive families read its images, not its labels). Reviews: all-MiniLM-L6-v2 fine-tuned
on 200 labelled books reviews (the strategies benchmark's budget), evaluated on kitchen's 2,000.
Each family against no augmentation, 3 seeds; everything else fixed.

Run:   .venv/bin/python benchmarks/augmentation.py [--tasks digits,reviews] [--seeds 0,1,2]
       [--families none,geometric,...]
Writes benchmarks/results/augmentation.json (format: ../shared/docs/BENCHMARKS.md) after every
run; finished rows are skipped, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import digits_deep  # the LeNet recipe
import numpy as np
from results_file import append_rows

WORK = Path("runs/bench/augmentation")
RESULTS = Path(__file__).parent / "results" / "augmentation.json"

DIGIT_FAMILIES: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "geometric": [
        {"op": "rotate", "degrees": 15, "p": 0.5},
        {"op": "translate", "fraction": 0.1, "p": 0.5},
        {"op": "scale", "low": 0.85, "high": 1.15, "p": 0.5},
    ],
    "photometric": [
        {"op": "color_jitter", "brightness": 0.4, "contrast": 0.4, "saturation": 0.0, "p": 0.8},
        {"op": "blur", "sigma": 1.0, "p": 0.3},
        {"op": "noise", "std": 0.05, "p": 0.3},
    ],
    "randaugment": [{"op": "randaugment", "num_ops": 2, "magnitude": 9}],
    "mixup": [{"op": "mixup", "alpha": 0.2}],
    "cutmix": [{"op": "cutmix", "alpha": 1.0, "p": 0.5}],
    "adversarial": [{"op": "pgd", "eps": 0.1, "steps": 3}],
    "domain_fda": [{"op": "fda", "beta": 0.05, "p": 0.5}],
    "domain_histogram": [{"op": "match_histogram", "p": 0.5}],
    "mixstyle": [{"op": "mixstyle", "p": 0.5, "alpha": 0.1, "layers": ["conv.0", "conv.3"]}],
}
TEXT_FAMILIES: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "token_delete": [{"op": "token_delete", "rate": 0.1, "p": 0.5}],
    "token_swap": [{"op": "token_swap", "rate": 0.1, "p": 0.5}],
    "token_insert": [{"op": "token_insert", "rate": 0.1, "p": 0.5}],
    "token_mask": [{"op": "token_mask", "rate": 0.15, "p": 0.5}],
    "embed_mixup": [{"op": "embed_mixup", "alpha": 0.2}],
    "embed_adversarial": [{"op": "embed_fgsm", "eps": 0.1}],  # x the embeddings' RMS
}


def digits_config(family: str, seed: int) -> dict[str, Any]:
    """digits_deep.py's source-only LeNet (8 epochs), keeping the checkpoint with the best source
    validation loss (no target label is read), with ``family``'s augmentation."""
    cfg = digits_deep.config("source_only", seed, epochs=8)
    cfg["name"] = f"aug-digits-{family}"
    cfg["adapt"] = {"protocol": "transductive"}  # USPS is only evaluated (and read by fda)
    cfg["augment"] = DIGIT_FAMILIES[family]
    return cfg


def reviews_config(family: str, seed: int) -> dict[str, Any]:
    return {
        "name": f"aug-reviews-{family}",
        "seed": seed,
        "data": {"source": "amazon-reviews:books", "target": "amazon-reviews:kitchen"},
        "split": {"method": "stratified", "train": 0.1, "val": 0.05, "test": 0.85, "seed": seed},
        "model": {"backbone": "minilm", "max_length": 128},
        "adapt": {"protocol": "transductive"},
        "strategy": {"name": "full"},
        "augment": TEXT_FAMILIES[family],
        "train": {"epochs": 5, "batch_size": 16, "lr": 5e-5, "warmup_ratio": 0.1},
        "track": {"enabled": False},
    }


TASKS = {
    "digits": ("M->U", DIGIT_FAMILIES, digits_config),
    "reviews": ("books->kitchen", TEXT_FAMILIES, reviews_config),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="digits,reviews")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--families", default=None, help="default: all of each task's")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    import domainfit
    from domainfit.progress import silenced

    torch.set_num_threads(args.threads)
    importlib.import_module("domainfit.fit").write_report = lambda *a, **k: None
    doc: dict[str, Any] = (
        json.loads(RESULTS.read_text())
        if RESULTS.is_file()
        else {
            "benchmark": "augmentation",
            "command": "python benchmarks/augmentation.py",
            "date": dt.date.today().isoformat(),
            "machine": "2-core CPU",
            "setup": {
                "digits": "LeNet on MNIST test (10% val), SGD 0.01, 8 epochs; target USPS test",
                "reviews": "MiniLM full fine-tuning on 200 books reviews, 5 epochs, 5e-5; "
                "target kitchen (2,000)",
                "families": {"digits": DIGIT_FAMILIES, "reviews": TEXT_FAMILIES},
            },
            "rows": [],
        }
    )
    done = {(r["task"], r["method"], r["seed"]) for r in doc["rows"]}
    for key in args.tasks.split(","):
        task, families, make = TASKS[key]
        names = args.families.split(",") if args.families else list(families)
        for seed in [int(s) for s in args.seeds.split(",")]:
            for family in names:
                if family not in families or (task, family, seed) in done:
                    continue
                out = WORK / f"{key}-{family}-s{seed}"
                shutil.rmtree(out, ignore_errors=True)
                start = time.perf_counter()
                with silenced():
                    run = domainfit.fit(make(family, seed), out=out)
                seconds = time.perf_counter() - start
                new_rows = []
                for metric, name in (
                    ("target.test.accuracy", "accuracy"),
                    ("source.val.accuracy", "source_val_accuracy"),
                ):
                    new_rows.append(
                        {
                            "task": task,
                            "method": family,
                            "seed": seed,
                            "metric": name,
                            "value": round(100 * float(run.metrics[metric]), 2),
                            "seconds": round(seconds, 1),
                        }
                    )
                _append_rows(doc, new_rows)
                shutil.rmtree(out, ignore_errors=True)
                acc = 100 * float(run.metrics["target.test.accuracy"])
                print(
                    f"{task} {family} seed {seed}: target {acc:.2f} ({seconds:.0f} s)", flush=True
                )
    cells: dict[tuple[str, str], list[float]] = {}
    for r in doc["rows"]:
        if r["metric"] == "accuracy":
            cells.setdefault((r["task"], r["method"]), []).append(r["value"])
    for task in sorted({t for t, _ in cells}):
        base = np.mean(cells.get((task, "none"), [np.nan]))
        print(f"\n{task}\n| family | target accuracy | vs none |\n|---|---:|---:|")
        for (t, m), vals in cells.items():
            if t == task:
                mean = float(np.mean(vals))
                print(f"| {m} | {mean:.2f} ± {np.std(vals):.2f} | {mean - base:+.2f} |")
    return 0


def _append_rows(doc: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    doc["setup"]["families"] = {"digits": DIGIT_FAMILIES, "reviews": TEXT_FAMILIES}
    append_rows(RESULTS, doc, rows)


if __name__ == "__main__":
    sys.exit(main())
