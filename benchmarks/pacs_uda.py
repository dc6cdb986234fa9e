"""PACS single-source unsupervised adaptation on frozen ImageNet EfficientNet-Lite0 features.

12 tasks source -> target over photo (P), art_painting (A), cartoon (C), sketch (S). Each domain
is embedded once (``pacs_common.features``: Lite0 at its own convention, 224 px, [-1, 1]).
Protocol: the source domain is labelled (10% held out for validation where a method needs it);
the whole target domain is the unlabelled pool and the test set (transductive: PACS has no
official split lists). No published single-source PACS table was checked (PUBLISHED_RESULTS.md
section 7), so the bar is this benchmark's own source-only rows.

The grid and its label-free choices are ``amazon_text_features``'s, on these features:

- ``lr_source``: logistic regression, C by 5-fold source cross-validation (the linear probe).
- ``coral_lr``, ``sa_lr``: CORAL re-colouring / subspace alignment, then ``lr_source``'s C.
- ``mlp_source``: ``domainfit.fit`` with ``mlp:100`` on the features, learning rate by source
  validation accuracy.
- ``dann``, ``cdan``, ``mmd``, ``coral``: the same network and rate plus the adaptation loss;
  its weight by information maximisation (IM) on the target pool, ``adapt.select: last``.
- ``mlp_selftrain``: the same network plus class-balanced self-training (fixed settings).

Each row group also records what an oracle reading target labels would have picked from the
same candidates (``accuracy_oracle``), never used for a choice.

Run:   .venv/bin/python benchmarks/pacs_uda.py [--tasks P->A,S->P] [--seeds 0] [--methods ...]
Writes benchmarks/results/pacs_uda.json (format: ../shared/docs/BENCHMARKS.md) after every unit
of work; rows already there are skipped, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import amazon_bow as bow
import amazon_text_features as atf
import pacs_common as pacs

OUT = Path(__file__).parent / "results" / "pacs_uda.json"
DEEP = ("dann", "cdan", "mmd", "coral")
# a decade apart: each candidate is 5 cross-validation fits of a 7-class model on 1280-d inputs
C_GRID = (1e-3, 1e-2, 0.1, 1.0)
FIRST = "P->A,P->C,P->S,A->S,C->S"  # the tasks from photo and into sketch
METHODS = ("lr_source", "coral_lr", "sa_lr", "mlp_source", *DEEP, "mlp_selftrain")


def load_domains(names: set[str], threads: int) -> dict[str, bow.Domain]:
    """Lite0 features per domain as ``amazon_bow.Domain``s whose test set is the pool."""
    feats = pacs.features(sorted(names), threads=threads)
    return {
        n: bow.Domain(f.x.astype("float64"), f.y, f.x, f.y, f.path, f.path)
        for n, f in feats.items()
    }


def load_doc() -> dict[str, Any]:
    if OUT.is_file():
        doc: dict[str, Any] = json.loads(OUT.read_text())
        return doc
    return {
        "benchmark": "pacs_uda",
        "command": "python benchmarks/pacs_uda.py",
        "date": dt.date.today().isoformat(),
        "machine": f"2-core CPU ({platform.machine()})",
        "setup": {
            "protocol": "source: one PACS domain, labelled; target: another domain, unlabelled "
            "pool and test set (transductive); frozen ImageNet EfficientNet-Lite0 features "
            "(224 px, [-1, 1], pooled 1280-d)",
            "selection": "accuracy: chosen without target labels (source CV / source "
            "validation / IM on the target pool); accuracy_snd: weight by SND; "
            "accuracy_oracle: best candidate by target accuracy",
            "C_grid": C_GRID,
            "lr_grid": bow.LR_GRID,
            "weights": atf.WEIGHTS,
            "sa_dim": atf.SA_DIM,
            "mlp": {"backbone": "mlp:100", "train": bow.MLP_TRAIN, "val": 0.1},
            "self_training": bow.SELF_TRAINING,
        },
        "rows": [],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=FIRST, help=f"default {FIRST}; all: {pacs.TASKS}")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    tasks, methods = args.tasks.split(","), args.methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    unknown = sorted(set(methods) - set(METHODS)) + sorted(set(tasks) - set(pacs.TASKS))
    if unknown:
        print(f"unknown methods/tasks {unknown}; known: {METHODS}, {pacs.TASKS}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    bow.DOMAINS = pacs.DOMAINS  # the reused runners name domains by these letters
    bow.C_GRID = C_GRID
    bow.WORK = pacs.WORK / "uda"  # and keep their temporary run folders under ours
    bow._silence_reports()
    doc = load_doc()
    start = time.perf_counter()
    data = load_domains({d for task in tasks for d in pacs.split_task(task)}, args.threads)
    print(f"data ready ({time.perf_counter() - start:.0f} s)", flush=True)
    atf.run_grid(OUT, doc, data, tasks, seeds, methods, pacs.DOMAINS, DEEP)
    shutil.rmtree(bow.WORK / "tmp", ignore_errors=True)
    print(f"wall time of this invocation: {time.perf_counter() - start:.0f} s")
    print(atf.summary([r for r in doc["rows"] if r["task"] in tasks], METHODS, pacs.TASKS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
