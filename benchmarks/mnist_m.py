"""Deep unsupervised adaptation MNIST -> MNIST-M, against the DANN paper's table.

Ganin et al. (JMLR 2016, Table 2; PUBLISHED_RESULTS.md section 8) train a small CNN on the
60,000 MNIST training digits and adapt to the MNIST-M training split, testing on its test
split: source only 52.25, SA 56.90, DANN 76.66, train on target 95.96. Offline we have the
10,000 MNIST test digits and the 9,001 MNIST-M test images, so the protocol is the transductive
one of ``digits_deep.py``: all of MNIST test (90% train, 10% validation, stratified) is the
labelled source; MNIST-M test is the unlabelled pool and the test set.

Two families, each trained source-only and adapted:

- ``*_scratch``: the paper's network from random weights (``digits_nets.dann_cnn``: conv 5x5
  (32) - pool - conv 5x5 (48) - pool - FC 100 - FC 100 - FC 10, 28x28, a 100-unit domain
  discriminator);
- ``*_lite0``: ImageNet EfficientNet-Lite0 (``model.backbone: efficientnet-lite0``) fine-tuned
  whole at 32x32 (MNIST-M's own size), its inputs in [-1, 1] as its weights expect.

Every setting is fixed in advance and is the same for both families, so the two differ only in
their starting weights: TLlib's digit recipe (SGD 0.01, momentum 0.9, weight decay 1e-3, batch
32, trade-off 1) with the DANN paper's annealing lr / (1 + 10 p)^0.75 and Ganin's ramp on the
reversed gradient, which is also the best recipe of ``digits_deep.py``. SGD at 0.01 rather
than AdamW: it is the paper's initial rate and TLlib's base rate for fine-tuning ImageNet
networks, so one setting serves a network trained from scratch and a pretrained one alike,
where AdamW would need a different rate per family. ``adapt.select: last``: no target label
is read for any choice. Every run also records the label-free validators' scores (``im``,
``snd`` rows) of its target predictions, and the printout puts the method each would pick,
per family and seed, next to the oracle's.

Run:   .venv/bin/python benchmarks/mnist_m.py [--seeds 0,1,2] [--methods dann_scratch]
       [--epochs N] [--threads 1] [--device cpu|cuda] [--redo]
Writes benchmarks/results/mnist_m.json (format: ../shared/docs/BENCHMARKS.md) after every run;
finished rows (task, method, seed, epochs, device) are skipped, so an interrupted run resumes;
``--redo`` reruns them and replaces their rows. ``--epochs`` sets every method's epochs;
without it each family trains for its own default (``EPOCHS``). The recorded grid (44 min on
one thread): ``--seeds 0``, then ``--seeds 1,2 --methods
source_only_scratch,dann_scratch,cdan_scratch`` (Lite0 on seed 0 only: ~17 min a seed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from digits_deep import target_probabilities
from results_file import append_rows

WORK = Path("runs/bench/mnist_m")
RESULTS = Path(__file__).parent / "results" / "mnist_m.json"
TASK = "MNIST->MNIST-M"
SOURCE, TARGET = "mnist-test", "mnist-m-test"
# Ganin et al. JMLR 2016 Table 2 (MNIST -> MNIST-M, small CNN, MNIST-M train split as the pool)
PUBLISHED = {"source_only": 52.25, "sa": 56.90, "dann": 76.66, "train_on_target": 95.96}

# the two starting points: backbone, input size and head
FAMILIES: dict[str, dict[str, Any]] = {
    "scratch": {
        "backbone": "python:digits_nets:dann_cnn",
        "allow_python": True,
        "image_size": 28,
        # with the backbone's FC 100, the paper's label predictor FC 100 - FC 100 - FC 10
        "head": {"type": "mlp", "hidden": 100, "dropout": 0.0},
    },
    "lite0": {
        "backbone": "efficientnet-lite0",
        "image_size": 32,
        "head": {"dropout": 0.0},
    },
}
# default epochs of each family, set by time alone (one CPU thread, 2 shared cores): a
# one-epoch run took ~50 s for DANN from scratch, ~210 s for lite0 source-only and ~430 s for
# lite0 DANN, so seed 0 of all six methods and seeds 1-2 of the scratch family fit ~40 min
EPOCHS = {"scratch": 8, "lite0": 1}
# the adaptation of each method; the discriminator of the scratch family has the paper's 100
# hidden units, lite0's the library default for its 1280-d features (1024)
ADAPT: dict[str, dict[str, Any]] = {
    "source_only": {},
    "dann": {"method": "dann", "weight": 1.0},
    "cdan": {"method": "cdan", "weight": 1.0},
}
HIDDEN = {"scratch": {"hidden": 100}, "lite0": {}}
METHODS = [f"{a}_{f}" for f in FAMILIES for a in ADAPT]


def split_method(method: str) -> tuple[str, str]:
    """``dann_lite0`` -> ("dann", "lite0")."""
    adapt, _, family = method.rpartition("_")
    return adapt, family


def config(method: str, seed: int, epochs: int) -> dict[str, Any]:
    adapt, family = split_method(method)
    spec = dict(ADAPT[adapt])
    if spec:
        spec["options"] = dict(HIDDEN[family])
    return {
        "name": f"mnist-m-{method.replace('_', '-')}",
        "seed": seed,
        "data": {"source": SOURCE, "target": TARGET},
        "split": {"method": "stratified", "train": 0.9, "val": 0.1, "test": 0.0, "seed": seed},
        "model": dict(FAMILIES[family]),
        "strategy": {"name": "full"},
        "adapt": {"protocol": "transductive", "select": "last", **spec},
        "train": {
            "epochs": epochs,
            "batch_size": 32,
            "optimizer": "sgd",
            "lr": 0.01,
            "momentum": 0.9,
            "weight_decay": 1e-3,
            "schedule": "inverse",
            "clip_grad_norm": None,
        },
        "track": {"enabled": False},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--epochs", type=int, default=None, help="default: EPOCHS per family")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--redo", action="store_true", help="rerun finished runs, replace rows")
    args = parser.parse_args()
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        print(f"unknown methods {unknown}: use some of {METHODS}", file=sys.stderr)
        return 2
    if args.device == "cpu":
        # domainfit trains on a GPU whenever one is visible
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import torch

    import domainfit
    from domainfit.adapt.adapter import validator_scores
    from domainfit.progress import silenced

    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: no GPU is visible", file=sys.stderr)
        return 2
    device = torch.cuda.get_device_name(0) if args.device == "cuda" else "2-core CPU"
    torch.set_num_threads(args.threads)
    importlib.import_module("domainfit.fit").write_report = lambda *a, **k: None
    doc: dict[str, Any] = (
        json.loads(RESULTS.read_text())
        if RESULTS.is_file()
        else {
            "benchmark": "mnist_m",
            "command": "python benchmarks/mnist_m.py",
            "date": dt.date.today().isoformat(),
            "machine": device,
            "setup": {
                "protocol": "source: MNIST test (10,000; 10% validation), target: MNIST-M test "
                "(9,001) as unlabelled pool and test set (transductive)",
                "families": FAMILIES,
                "train": {**config("dann_scratch", 0, 1)["train"], "epochs": EPOCHS},
                "adapt": {"methods": ADAPT, "options": HIDDEN, "select": "last"},
                "published": "DANN (Ganin et al. JMLR 2016, Table 2): " + json.dumps(PUBLISHED),
            },
            "rows": [],
        }
    )
    done = set() if args.redo else {_key(r) for r in doc["rows"]}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for method in methods:
            epochs = args.epochs or EPOCHS[split_method(method)[1]]
            if (TASK, method, seed, epochs, device) in done:
                continue
            out = WORK / f"{method}-e{epochs}-{args.device}-s{seed}"
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            with silenced():
                run = domainfit.fit(config(method, seed, epochs), out=out)
            seconds = time.perf_counter() - start
            acc = 100 * float(run.metrics["target.test.accuracy"])
            row = {
                "task": TASK,
                "method": method,
                "seed": seed,
                "metric": "accuracy",
                "value": round(acc, 2),
                "seconds": round(seconds, 1),
                "epochs": epochs,
                "device": device,
                "source_val_accuracy": round(100 * run.metrics["source.val.accuracy"], 2),
            }
            scores = validator_scores(target_probabilities(out))
            rows = [row] + [
                {**row, "metric": name, "value": round(v, 4)} for name, v in scores.items()
            ]
            # the file's machine names every device its rows ran on
            machines = {r.get("device", doc["machine"]) for r in doc["rows"]} | {device}
            doc["machine"] = " + ".join(sorted(machines))
            key = _key(row)
            append_rows(RESULTS, doc, rows, replaces=lambda r, key=key: _key(r) == key)
            shutil.rmtree(out, ignore_errors=True)
            print(
                f"{TASK} {method} seed {seed}: {acc:.2f} (IM {scores['im']:.3f}, "
                f"SND {scores['snd']:.3f}; {seconds:.0f} s)",
                flush=True,
            )
    print(summary_table(doc["rows"]))
    print(validator_table(doc["rows"]))
    return 0


def summary_table(rows: list[dict[str, Any]]) -> str:
    """Mean ± sample std over seeds per method, epochs and device, next to the paper's."""
    by: dict[tuple[str, int, str], dict[int, float]] = {}
    for r in (r for r in rows if r["metric"] == "accuracy"):
        by.setdefault((r["method"], r["epochs"], r["device"]), {})[r["seed"]] = r["value"]
    lines = [
        "| method | epochs | device | DANN paper | ours, per seed | mean ± std (seeds) |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for (method, epochs, device), per_seed in by.items():
        vals = [per_seed[s] for s in sorted(per_seed)]
        pub = PUBLISHED.get(split_method(method)[0])
        lines.append(
            f"| {method} | {epochs} | {device} | {pub if pub is not None else '–'} | "
            f"{' / '.join(f'{v:.2f}' for v in vals)} | {np.mean(vals):.2f} ± "
            f"{np.std(vals, ddof=1 if len(vals) > 1 else 0):.2f} ({len(vals)}) |"
        )
    return "\n".join(lines)


def validator_table(rows: list[dict[str, Any]]) -> str:
    """Per device, family and seed: the method each validator would pick among that family's
    scored runs (at each method's latest epochs), next to the oracle's pick (the best target
    accuracy). Within a family, as the scores do not compare across networks."""
    by: dict[tuple[str, str, int], dict[str, dict[str, Any]]] = {}
    for r in rows:
        group = (r["device"], split_method(r["method"])[1], r["seed"])
        cell = by.setdefault(group, {}).setdefault(r["method"], {})
        if cell.get("epochs", -1) < r["epochs"]:
            cell.clear()
            cell["epochs"] = r["epochs"]
        if cell["epochs"] == r["epochs"]:
            cell[r["metric"]] = r["value"]
    lines = [
        "| device | family | seed | methods | IM pick | SND pick | oracle |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for (device, family, seed), methods in sorted(by.items()):
        scored = {m: v for m, v in methods.items() if {"accuracy", "im", "snd"} <= set(v)}
        if len(scored) < 2:
            continue
        picks = [max(scored, key=lambda m, k=k: scored[m][k]) for k in ("im", "snd", "accuracy")]
        cells = [f"{m} {scored[m]['accuracy']:.2f}" for m in picks]
        lines.append(
            f"| {device} | {family} | {seed} | {len(scored)} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _key(row: dict[str, Any]) -> tuple[str, str, int, int, str]:
    return (row["task"], row["method"], row["seed"], row["epochs"], row["device"])


if __name__ == "__main__":
    sys.exit(main())
