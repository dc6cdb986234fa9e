"""Text input pipeline: MiniLM fine-tuning with every batch padded to ``max_length``, padded to
its longest row (random batches), and padded to its longest row with length-bucketed batches
(``train.bucket_by_length``); plus tokenisation from scratch against the on-disk token cache.

Task: Amazon reviews (``--domain``, default kitchen), exact duplicates dropped, a fixed held-out
test set (the same for every seed and method) and ``--train`` reviews per seed; all-MiniLM-L6-v2
fully fine-tuned (lr 1e-4, linear schedule, batch 16) at ``max_length`` 256, so padding matters.

The CPU is shared with other jobs, so every measurement is a fresh child process, the methods of
a seed run back to back in a rotating order, speed-ups are taken within a seed's round, and each
row records the load average around it. Training time is the epochs' batch loops only (not model
loading, tokenising, checkpoints or the test pass); CPU seconds (one torch thread) grow less than
wall seconds when other jobs share the cores.

Run:   .venv/bin/python benchmarks/text_pipeline.py [--quick] [--seeds 0,1,2] [--train 400]
Quick: one seed, 160 training reviews (10 steps).
Writes benchmarks/results/text_pipeline[_quick].json (format: ../shared/docs/BENCHMARKS.md),
rewritten after every measurement; seeds whose round is already there are skipped (resume).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from domainfit.data.loaders import BUCKET_CHUNK, EncodedSet
from domainfit.io_utils import write_json_atomic

WORK = Path("runs/bench/text_pipeline")
RESULTS = Path(__file__).parent / "results"
METHODS = ("max_length", "dynamic", "bucketed")
DOMAINS = ("books", "dvd", "electronics", "kitchen")  # all reviews, for the tokenising rows
TEST_SIZE = 400
MAX_LENGTH = 256
# one epoch over a few hundred reviews: 1e-4 (not the usual 5e-5) so ~25 steps learn the task
TRAIN = {"batch_size": 16, "lr": 1e-4, "schedule": "linear", "warmup_ratio": 0.1}


def task_data(domain: str, seed: int, n_train: int) -> Path:
    """CSV of ``n_train`` training reviews (this seed) and the fixed test set."""
    out = WORK / "data" / f"{domain}-s{seed}-n{n_train}.csv"
    if out.is_file():
        return out
    import pandas as pd

    from domainfit import load_data

    ds = load_data(f"amazon-reviews:{domain}")
    frame = pd.DataFrame({"text": list(ds.inputs), "label": np.asarray(ds.labels)})
    frame = frame.drop_duplicates("text").reset_index(drop=True)
    order = np.random.default_rng(12345).permutation(len(frame))
    test, pool = order[:TEST_SIZE], order[TEST_SIZE:]
    train = np.random.default_rng(seed).choice(pool, size=n_train, replace=False)
    frame["split"] = ""
    frame.loc[test, "split"] = "test"
    frame.loc[train, "split"] = "train"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame[frame["split"] != ""].to_csv(out, index=False)
    return out


# ---------------------------------------------------------------- child: one training run


def train_once(csv: Path, seed: int, method: str, epochs: int) -> dict[str, Any]:
    import domainfit.train.trainer as trainer_mod
    from domainfit.config_io import load_config
    from domainfit.data.loaders import Batches
    from domainfit.evaluate.outputs import model_outputs
    from domainfit.fit import build_session
    from domainfit.progress import silenced

    bucket = method == "bucketed"
    cfg = load_config(
        {
            "name": f"text-pipeline-{method}",
            "seed": seed,
            "data": {
                "source": {"spec": str(csv), "text": "text", "label": "label", "split": "split"}
            },
            "split": {"method": "predefined"},
            "model": {"backbone": "minilm", "max_length": MAX_LENGTH},
            "strategy": {"name": "full"},
            "train": {**TRAIN, "epochs": epochs, "bucket_by_length": bucket},
            "track": {"enabled": False},
        }
    )
    with silenced():
        s = build_session(cfg, None)
    train, test = s.sets["source.train"], s.sets["source.test"]
    if method == "max_length":
        train = PaddedToMax(train.inputs, train.labels, train.pad_id)
    padded = sum(
        Batches(
            train, TRAIN["batch_size"], shuffle=True, seed=seed, epoch=e, bucket=bucket
        ).padded_tokens()
        for e in range(epochs)
    )
    if method == "max_length":
        padded = MAX_LENGTH * len(train) * epochs
    with tempfile.TemporaryDirectory(dir=WORK) as tmp, silenced():
        trainer = trainer_mod.Trainer(
            s.trained,
            s.loss(),
            s.strategy.param_groups(),
            cfg.train,
            Path(tmp),
            seed=seed,
            hooks=s.strategy,
        )
        wall, cpu = _time_epochs(trainer)
        result = trainer.fit(train, None)
        probs = model_outputs(s.trained, test, s.task, 64, trainer.accelerator.device)
    assert test.labels is not None
    accuracy = float((probs.argmax(1) == test.labels).mean())
    return {
        "accuracy": accuracy,
        "steps": result.global_step,
        "train_seconds": sum(wall),
        "train_cpu_seconds": sum(cpu),
        "padded_tokens": padded,
        "real_tokens": int(train.lengths().sum()) * epochs,  # type: ignore[union-attr]
        "threads": torch.get_num_threads(),
    }


def _time_epochs(trainer: Any) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each epoch's batch loop (the trainer's ``_epoch``)."""
    wall: list[float] = []
    cpu: list[float] = []
    inner = trainer._epoch

    def timed(*args: Any) -> None:
        t0, c0 = time.perf_counter(), time.process_time()
        inner(*args)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)

    trainer._epoch = timed
    return wall, cpu


class PaddedToMax(EncodedSet):
    """Every batch padded to ``max_length``: what a fixed-shape pipeline feeds the model."""

    def _pad(self, rows: list[list[int]]) -> dict[str, torch.Tensor]:
        out = super()._pad(rows)
        extra = MAX_LENGTH - out["input_ids"].shape[1]
        ids = torch.nn.functional.pad(out["input_ids"], (0, extra), value=self.pad_id)
        mask = torch.nn.functional.pad(out["attention_mask"], (0, extra), value=0)
        return {"input_ids": ids, "attention_mask": mask}


# ---------------------------------------------------------------- child: tokenising


def tokenize_once(cache: Path, domains: list[str]) -> dict[str, Any]:
    """Seconds to encode every review of ``domains`` with the token cache at ``cache``."""
    from domainfit import load_data
    from domainfit.config import ModelConfig
    from domainfit.data.dataset import DomainDataset
    from domainfit.models.backbone import load_backbone
    from domainfit.models.inputs import input_encoder

    texts: list[str] = []
    for d in domains:
        texts += [str(t) for t in load_data(f"amazon-reviews:{d}").inputs]
    cfg = ModelConfig(backbone="minilm", max_length=MAX_LENGTH)
    encode, _ = input_encoder(load_backbone(cfg), cfg, token_cache=cache)
    ds = DomainDataset("all", "text", texts)
    start = time.perf_counter()
    ids = encode(ds)["input_ids"]
    return {"seconds": time.perf_counter() - start, "texts": len(texts), "rows": len(ids)}


# ---------------------------------------------------------------- parent


def child(args: list[str], threads: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, *args, "--threads", str(threads)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    load_before = os.getloadavg()[0]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("ROW ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return {**json.loads(lines[-1][4:]), "load_1min": [load_before, os.getloadavg()[0]]}


def rotated(seed: int) -> list[str]:
    k = seed % len(METHODS)
    return [*METHODS[k:], *METHODS[:k]]


def training_rows(task: str, method: str, seed: int, res: dict[str, Any], epochs: int) -> list:
    common = {
        "task": task,
        "method": method,
        "seed": seed,
        "seconds": round(res["train_seconds"], 1),
        "cpu_seconds": round(res["train_cpu_seconds"], 1),
        "threads": res["threads"],
        "load_1min": [round(x, 2) for x in res["load_1min"]],
    }
    values = {
        "accuracy": round(100 * res["accuracy"], 2),
        "train_steps_per_s": round(res["steps"] / res["train_seconds"], 4),
        "train_seconds_per_epoch": round(res["train_seconds"] / epochs, 1),
        "train_cpu_seconds_per_epoch": round(res["train_cpu_seconds"] / epochs, 1),
        "padded_tokens_per_epoch": res["padded_tokens"] // epochs,
        "padding_fraction": round(1 - res["real_tokens"] / res["padded_tokens"], 4),
    }
    return [{**common, "metric": m, "value": v} for m, v in values.items()]


def speedup_rows(task: str, seed: int, round_: dict[str, dict[str, Any]]) -> list:
    base = round_["max_length"]
    rows = []
    for method in ("dynamic", "bucketed"):
        res = round_[method]
        for metric, key in (
            ("speedup_vs_max_length", "train_seconds"),
            ("cpu_speedup_vs_max_length", "train_cpu_seconds"),
        ):
            rows.append(
                {
                    "task": task,
                    "method": method,
                    "seed": seed,
                    "metric": metric,
                    "value": round(base[key] / res[key], 3),
                }
            )
    return rows


def tokenize_rows(domains: list[str], repeats: int, threads: int) -> list[dict[str, Any]]:
    """Cold (fresh cache folder) and cached encodes, alternating, each in a fresh process."""
    task = f"amazon-reviews:{'+'.join(domains)} tokenise (max_length {MAX_LENGTH})"
    rows = []
    for r in range(repeats):
        folder = WORK / "tokens" / f"r{r}"
        shutil.rmtree(folder, ignore_errors=True)
        cold = child(["--tokenize", str(folder), ",".join(domains)], threads)
        cached = child(["--tokenize", str(folder), ",".join(domains)], threads)
        for method, res in (("tokenize_cold", cold), ("token_cache_hit", cached)):
            rows.append(
                {
                    "task": task,
                    "method": method,
                    "seed": r,
                    "metric": "seconds",
                    "value": round(res["seconds"], 3),
                    "texts": res["texts"],
                    "load_1min": [round(x, 2) for x in res["load_1min"]],
                }
            )
        rows.append(
            {
                "task": task,
                "method": "token_cache_hit",
                "seed": r,
                "metric": "speedup_vs_cold",
                "value": round(cold["seconds"] / cached["seconds"], 1),
            }
        )
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    def mean(method: str, metric: str) -> tuple[float, float, int]:
        v = np.array([r["value"] for r in rows if (r["method"], r["metric"]) == (method, metric)])
        if not len(v):
            return float("nan"), float("nan"), 0
        return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v)

    lines = [
        "| padding | padded tokens / epoch | padding share | s / epoch | steps / s "
        "| speed-up (wall) | speed-up (CPU) | test accuracy % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for method in METHODS:
        tokens, share = mean(method, "padded_tokens_per_epoch"), mean(method, "padding_fraction")
        secs, sps = mean(method, "train_seconds_per_epoch"), mean(method, "train_steps_per_s")
        acc = mean(method, "accuracy")
        up = mean(method, "speedup_vs_max_length") if method != "max_length" else (1.0, 0.0, 0)
        cup = mean(method, "cpu_speedup_vs_max_length") if method != "max_length" else (1, 0, 0)
        lines.append(
            f"| {method} | {tokens[0]:,.0f} | {100 * share[0]:.0f}% | {secs[0]:.0f} | "
            f"{sps[0]:.3f} | {up[0]:.2f}× | {cup[0]:.2f}× | {acc[0]:.2f} ± {acc[1]:.2f} "
            f"(n={acc[2]}) |"
        )
    cold, hit = mean("tokenize_cold", "seconds"), mean("token_cache_hit", "seconds")
    lines.append(f"\ntokenising: {cold[0]:.2f} s cold, {hit[0]:.3f} s from the cache")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 160 reviews")
    parser.add_argument("--domain", default="kitchen")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per child")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "SEED"), help=argparse.SUPPRESS)
    parser.add_argument("--tokenize", nargs=2, metavar=("CACHE", "DOMAINS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.quick:
        args.seeds, args.train = "0", 160
    if args.one or args.tokenize:
        torch.set_num_threads(args.threads)
        if args.one:
            method, seed = args.one[0], int(args.one[1])
            row = train_once(task_data(args.domain, seed, args.train), seed, method, args.epochs)
        else:
            row = tokenize_once(Path(args.tokenize[0]), args.tokenize[1].split(","))
        print("ROW " + json.dumps(row))
        return 0
    suffix = "_quick" if args.quick else ""
    out = RESULTS / f"text_pipeline{suffix}.json"
    doc = _load(out, args, suffix)
    task = f"amazon-reviews:{args.domain}"
    for seed in (int(x) for x in args.seeds.split(",")):
        if not any(
            r["seed"] == seed and r["metric"] == "speedup_vs_max_length" for r in doc["rows"]
        ):
            run_round(doc, out, args, task, seed)
    if not any(r["method"] == "token_cache_hit" for r in doc["rows"]):
        doc["rows"].extend(tokenize_rows(list(DOMAINS), 1 if args.quick else 3, args.threads))
        write_json_atomic(out, doc)
    print(summary(doc["rows"]))
    return 0


def run_round(
    doc: dict[str, Any], out: Path, args: argparse.Namespace, task: str, seed: int
) -> None:
    """The three methods of one seed, back to back, each in a fresh process."""
    doc["rows"] = [r for r in doc["rows"] if not (r["task"] == task and r["seed"] == seed)]
    extra = ["--domain", args.domain, "--train", str(args.train), "--epochs", str(args.epochs)]
    task_data(args.domain, seed, args.train)
    round_: dict[str, dict[str, Any]] = {}
    for method in rotated(seed):
        res = child(["--one", method, str(seed), *extra], args.threads)
        round_[method] = res
        doc["rows"].extend(training_rows(task, method, seed, res, args.epochs))
        write_json_atomic(out, doc)
        print(
            f"seed {seed} {method}: {100 * res['accuracy']:.2f}% "
            f"{res['train_seconds']:.0f} s ({res['train_cpu_seconds']:.0f} CPU s), "
            f"load {res['load_1min'][0]:.1f}->{res['load_1min'][1]:.1f}",
            flush=True,
        )
    doc["rows"].extend(speedup_rows(task, seed, round_))
    doc["date"] = dt.date.today().isoformat()
    write_json_atomic(out, doc)


def _load(out: Path, args: argparse.Namespace, suffix: str) -> dict[str, Any]:
    setup = {
        "backbone": "all-MiniLM-L6-v2, strategy full",
        "domain": args.domain,
        "train_reviews": args.train,
        "test_reviews": TEST_SIZE,
        "epochs": args.epochs,
        "max_length": MAX_LENGTH,
        "train": TRAIN,
        "threads": args.threads,
        "bucket_chunk_batches": BUCKET_CHUNK,
    }
    if out.is_file():
        doc = json.loads(out.read_text())
        if doc.get("setup") == setup:  # same experiment: keep its rows, resume
            return doc
    return {
        "benchmark": f"text_pipeline{suffix}",
        "command": "python benchmarks/text_pipeline.py" + (" --quick" if args.quick else ""),
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()}-core CPU, shared with other benchmark jobs",
        "setup": setup,
        "rows": [],
    }


if __name__ == "__main__":
    sys.exit(main())
