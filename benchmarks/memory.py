"""Peak memory of full fine-tuning of all-MiniLM-L6-v2 with and without gradient checkpointing,
and the largest batch that fits a memory budget with each.

Every measurement is a fresh child process: the backbone loaded through domainfit
(``model.gradient_checkpointing`` on or off), a linear head, AdamW on all parameters, then
``--steps`` optimizer steps on batches of random token ids, every row ``--max-length`` tokens
long (the most a batch can hold, so a batch that fits here fits with real text too).

- CPU: peak RSS of the child (``ru_maxrss``), raw, next to its RSS once the model, head and
  optimizer are built (``baseline_mb``). glibc's mmap threshold is fixed at 64 KiB by default
  (``--allocator``, see ALLOCATORS: without it the peak is noisy and holds freed memory). The
  parent also watches the child's peak (VmHWM) and stops it once it passes the budget, so a
  batch that does not fit costs little.
- GPU (``--device cuda``): ``torch.cuda.max_memory_allocated``; an out-of-memory error is a
  batch that does not fit.

The largest batch: doubling from ``--start`` until a batch does not fit, then bisection between
the last that fitted and the first that did not, until they are within ``--precision`` of each
other. ``steps_per_s`` counts the steps after the first (which allocates the optimizer state);
``steps_per_cpu_s`` per second of the child's CPU time, which other jobs on the shared CPU hardly
change. The rows at ``--batch`` (default 32) interleave the two settings and (CPU) the two
allocators ``--repeats`` times; each row records the load average.

Run:   .venv/bin/python benchmarks/memory.py [--budget-mb 3000] [--max-length 128] [--device cpu]
Quick: .venv/bin/python benchmarks/memory.py --quick   (max_length 64, budget 2000 MB, 1 repeat)
Writes benchmarks/results/memory[_quick].json (format: ../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from domainfit.io_utils import write_json_atomic

RESULTS = Path(__file__).parent / "results"
SETTINGS = (False, True)  # model.gradient_checkpointing
# glibc raises its mmap threshold as large blocks are freed, after which freed activations stay
# in the heap: peak RSS then varies by ~100 MB between identical runs and overstates the live
# peak by ~300 MB. A fixed threshold returns every block over 64 KiB to the system when freed,
# so RSS follows the tensors alive (identical runs agree to 0.1 MB). Both are measured.
ALLOCATORS = {"fixed-mmap": {"MALLOC_MMAP_THRESHOLD_": "65536"}, "default": {}}


# --- the child: one configuration -------------------------------------------------------------


def rss_mb() -> float:
    """The process's current resident memory (Linux), else its peak so far."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(checkpointing: bool, device: str) -> tuple[Any, Any, int]:
    import torch
    from torch import nn

    from domainfit.config import ModelConfig
    from domainfit.models.backbone import load_backbone
    from domainfit.models.heads import TransferModel

    torch.manual_seed(0)
    backbone = load_backbone(ModelConfig(backbone="minilm", gradient_checkpointing=checkpointing))
    model = TransferModel(backbone, nn.Linear(backbone.out_features, 2)).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    return model, optimizer, int(backbone.inner.config.vocab_size)


def train_steps(job: dict[str, Any]) -> dict[str, Any]:
    """``job``: batch, checkpointing, max_length, steps, device. Returns memory and speed."""
    import torch

    device = job["device"]
    model, optimizer, vocab = build(job["checkpointing"], device)
    if device == "cuda":
        torch.cuda.synchronize()
        baseline = torch.cuda.memory_allocated() / 2**20
        torch.cuda.reset_peak_memory_stats()
    else:
        baseline = rss_mb()
    gen = torch.Generator().manual_seed(1)
    shape = (job["batch"], job["max_length"])
    times, cpu_times = [], []
    try:
        for _ in range(job["steps"]):
            ids = torch.randint(1000, vocab, shape, generator=gen).to(device)
            batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
            labels = torch.randint(0, 2, (job["batch"],), generator=gen).to(device)
            start, cpu_start = time.perf_counter(), time.process_time()
            one_step(model, optimizer, batch, labels)
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
    except torch.OutOfMemoryError:
        return {"fits": False, "baseline_mb": baseline, "peak_mb": None, "steps_per_s": None}
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if device == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    measured, cpu = (times[1:], cpu_times[1:]) if len(times) > 1 else (times, cpu_times)
    return {
        "fits": True,
        "baseline_mb": baseline,
        "peak_mb": peak,
        "steps_per_s": len(measured) / sum(measured),
        # per second of this process's CPU time: what the step costs, whatever else runs
        "steps_per_cpu_s": len(cpu) / sum(cpu),
        "step_seconds": [round(t, 3) for t in times],
    }


def one_step(model: Any, optimizer: Any, batch: dict[str, Any], labels: Any) -> None:
    import torch

    loss = torch.nn.functional.cross_entropy(model(batch), labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # as train.clip_grad_norm does
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


# --- the parent: fresh processes, the search ------------------------------------------------


def peak_kb(pid: int) -> int:
    """A running process's peak resident memory (VmHWM), 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(job: dict[str, Any], args: argparse.Namespace, *, watch: bool = True) -> dict:
    """One configuration in a fresh child; on the CPU, with ``watch``, it is stopped once past
    the budget."""
    load_before = os.getloadavg()[0]
    cmd = [sys.executable, __file__, "--one", json.dumps(job), "--threads", str(args.threads)]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), **ALLOCATORS[job["allocator"]]}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    over = False
    while proc.poll() is None:
        if watch and job["device"] == "cpu" and peak_kb(proc.pid) / 1024 > args.budget_mb:
            proc.kill()  # our own child, by its id: it has shown it does not fit
            over = True
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    res = _result(out, err, proc.returncode, over, args.budget_mb if watch else float("inf"))
    res.update(job=job, load_before=load_before, load_after=os.getloadavg()[0])
    return res


def _result(out: str, err: str, code: int, over: bool, budget: float) -> dict[str, Any]:
    rows = [ln for ln in out.splitlines() if ln.startswith("ROW ")]
    if over:
        return {"fits": False, "peak_mb": None, "stopped_over_budget": True}
    if code != 0 or not rows:
        raise RuntimeError(f"memory child failed (exit {code}):\n{err[-3000:]}")
    res: dict[str, Any] = json.loads(rows[-1][4:])
    res["fits"] = bool(res["fits"]) and res["peak_mb"] <= budget
    return res


def largest_batch(checkpointing: bool, args: argparse.Namespace) -> tuple[int, list[dict]]:
    """Doubling until a batch does not fit, then bisection; the largest that fitted."""
    probes: list[dict[str, Any]] = []

    def fits(batch: int) -> bool:
        job = _job(batch, checkpointing, args, steps=args.search_steps)
        res = measure(job, args)
        probes.append(res)
        peak = f"{res['peak_mb']:.0f} MB" if res["peak_mb"] else "over budget"
        print(f"  checkpointing={checkpointing} batch {batch}: {peak}", flush=True)
        return bool(res["fits"])

    lo, hi = 0, args.start
    while hi <= args.max_batch and fits(hi):
        lo, hi = hi, hi * 2
    if lo == args.max_batch or hi > args.max_batch:
        return lo, probes  # the cap fitted: report it as a lower bound
    while hi - lo > max(1, int(lo * args.precision)):
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo, probes


def _job(batch: int, checkpointing: bool, args: argparse.Namespace, steps: int) -> dict:
    return {
        "batch": batch,
        "checkpointing": checkpointing,
        "max_length": args.max_length,
        "steps": steps,
        "device": args.device,
        "allocator": args.allocator if args.device == "cpu" else "default",
    }


# --- rows -------------------------------------------------------------------------------------


def row(task: str, method: str, metric: str, value: float, res: dict[str, Any]) -> dict:
    return {
        "task": task,
        "method": method,
        "seed": 0,
        "metric": metric,
        "value": round(value, 3 if metric.startswith("steps_per") else 1),
        "batch": res["job"]["batch"],
        "steps": res["job"]["steps"],
        "allocator": res["job"]["allocator"],
        "load_1min_before": round(res["load_before"], 2),
        "load_1min_after": round(res["load_after"], 2),
    }


def fixed_batch_rows(args: argparse.Namespace, task: str) -> list[dict]:
    """``--repeats`` rounds, each with both allocators (on the CPU) and both settings: the
    fixed threshold makes peaks exact but costs speed (a system call per large block), so
    steps/s compare within one allocator."""
    allocators = list(ALLOCATORS) if args.device == "cpu" else ["default"]
    plan = [(rep, a) for rep in range(args.repeats) for a in allocators]
    rows = []
    for rep, allocator in plan:
        for ckpt in SETTINGS:
            job = _job(args.batch, ckpt, args, steps=args.steps) | {"allocator": allocator}
            res = measure(job, args, watch=False)
            method = _method(ckpt)
            print(
                f"  batch {args.batch} {method} ({allocator} allocator): peak "
                f"{res['peak_mb']:.0f} MB (baseline {res['baseline_mb']:.0f} MB), "
                f"{res['steps_per_s']:.3f} steps/s",
                flush=True,
            )
            for metric in ("peak_mb", "baseline_mb", "steps_per_s", "steps_per_cpu_s"):
                rows.append(row(task, method, metric, res[metric], res) | {"repeat": rep})
    return rows


def search_rows(args: argparse.Namespace, task: str) -> list[dict]:
    rows = []
    for ckpt in SETTINGS:
        best, probes = largest_batch(ckpt, args)
        fitted = [p for p in probes if p["fits"] and p["job"]["batch"] == best]
        res = fitted[-1] if fitted else probes[-1]
        rows.append(row(task, _method(ckpt), "largest_batch", best, res))
        rows[-1]["probes"] = [
            {"batch": p["job"]["batch"], "fits": p["fits"], "peak_mb": _round(p["peak_mb"])}
            for p in probes
        ]
        if fitted:
            for metric in ("peak_mb", "steps_per_s", "steps_per_cpu_s"):
                rows.append(row(task, _method(ckpt), f"{metric}_at_largest", res[metric], res))
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _method(checkpointing: bool) -> str:
    return "full_checkpointing" if checkpointing else "full"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="max_length 64, 2000 MB, 1 repeat")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--budget-mb", type=float, default=3000.0)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32, help="the batch of the side-by-side rows")
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps at --batch")
    parser.add_argument("--search-steps", type=int, default=2, help="optimizer steps per probe")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--start", type=int, default=32, help="first batch of the search")
    parser.add_argument("--max-batch", type=int, default=4096)
    parser.add_argument("--precision", type=float, default=0.1, help="relative, of the search")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per child")
    parser.add_argument(
        "--allocator", choices=tuple(ALLOCATORS), default="fixed-mmap", help="glibc, on the CPU"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import torch

        torch.set_num_threads(args.threads)
        print("ROW " + json.dumps(train_steps(json.loads(args.one))))
        return 0
    if args.quick:
        args.max_length, args.budget_mb, args.repeats, args.steps = 64, 2000.0, 1, 3
    task = f"minilm full fine-tuning, max_length {args.max_length}, {args.device}"
    print(f"batch {args.batch}, both settings:", flush=True)
    rows = fixed_batch_rows(args, task)
    print(f"largest batch within {args.budget_mb:.0f} MB:", flush=True)
    rows += search_rows(args, task)
    write(args, rows)
    return 0


def write(args: argparse.Namespace, rows: list[dict]) -> None:
    suffix = "_quick" if args.quick else ""
    memory = "torch.cuda.max_memory_allocated" if args.device == "cuda" else "peak RSS"
    doc = {
        "benchmark": f"memory{suffix}",
        "command": "python " + " ".join(["benchmarks/memory.py", *sys.argv[1:]]),
        "date": dt.date.today().isoformat(),
        "machine": _machine(args.device),
        "setup": {
            "backbone": "all-MiniLM-L6-v2, full fine-tuning, linear head, AdamW, clip 1.0",
            "rows": f"random token ids, every row {args.max_length} tokens",
            "memory": f"{memory} of a fresh process, MB (2**20 bytes)",
            "budget_mb": args.budget_mb,
            "search": f"doubling from {args.start}, then bisection to {args.precision:.0%}",
            "search_steps": args.search_steps,
            "allocator": f"search: {args.allocator} (glibc env: {ALLOCATORS[args.allocator]}); "
            "the rows at the fixed batch are measured with both",
            "threads": args.threads,
        },
        "rows": rows,
    }
    out = RESULTS / f"memory{suffix}.json"
    write_json_atomic(out, doc)
    print(f"wrote {out}")


def _machine(device: str) -> str:
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name()
    return f"{os.cpu_count()}-core CPU, shared (see load_1min_* per row)"


if __name__ == "__main__":
    sys.exit(main())
