"""What a candidate costs on this machine: parameters, inference latency per sample, peak
memory of a training step, and the fine-tuning time that step implies.

Measured on the user's own batches, not from a spec sheet: sequence length and image size
dominate the cost, and they are properties of the data. CPU memory is sampled from the
process's resident set while a step runs (approximate: the allocator may reuse freed pages);
on a GPU it is the allocator's exact peak.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from domainfit.data.loaders import EncodedSet

WARMUP_BATCHES = 1
TIMED_BATCHES = 3


@dataclass
class Cost:
    params: int
    latency_ms: float  # per sample, inference at the run's batch size
    peak_mb: float  # a full fine-tuning step: weights, activations, gradients
    step_seconds: float  # one full fine-tuning optimizer step (forward + backward)
    finetune_minutes: float  # step_seconds x steps per epoch x epochs
    device: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[1])
    return pages * (4096 / 2**20)


class _PeakRss:
    """Samples the resident set every 5 ms on a thread while active."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.005)

    def __enter__(self) -> _PeakRss:
        self.peak = _rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _batches(data: EncodedSet, batch_size: int, count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    n = min(len(data), batch_size * count)
    order = rng.permutation(len(data))[:n]
    return [data.batch(order[i : i + batch_size]) for i in range(0, n, batch_size)]


def measure_cost(
    encoder: nn.Module, data: EncodedSet, batch_size: int, n_train: int, epochs: int
) -> Cost:
    """Times inference and a full fine-tuning step of ``encoder`` on ``data``'s batches."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    home = next(encoder.parameters()).device
    grads = {p: p.requires_grad for p in encoder.parameters()}
    params = sum(p.numel() for p in encoder.parameters())
    batches = _batches(data, batch_size, WARMUP_BATCHES + TIMED_BATCHES, seed=0)
    encoder.to(device)
    try:
        latency = _inference_ms(encoder, batches, device)
        step, peak = _train_step(encoder, batches[: WARMUP_BATCHES + 1], device)
    finally:
        for p, flag in grads.items():
            p.requires_grad_(flag)
            p.grad = None
        encoder.to(home).eval()
    steps = math.ceil(n_train / batch_size) * epochs
    return Cost(params, latency, peak, step, step * steps / 60.0, device.type)


@torch.no_grad()
def _inference_ms(encoder: nn.Module, batches: list[dict], device: torch.device) -> float:
    encoder.eval()
    timed = batches[WARMUP_BATCHES:] or batches
    for b in batches[:WARMUP_BATCHES]:
        encoder({k: v.to(device) for k, v in b.items() if k != "labels"})
    _sync(device)
    start, rows = time.perf_counter(), 0
    for b in timed:
        encoder({k: v.to(device) for k, v in b.items() if k != "labels"})
        rows += len(next(iter(b.values())))
    _sync(device)
    return 1000.0 * (time.perf_counter() - start) / max(1, rows)


def _train_step(
    encoder: nn.Module, batches: list[dict], device: torch.device
) -> tuple[float, float]:
    """Seconds of the last forward+backward, and the peak memory (MB) over the steps."""
    encoder.train()
    for p in encoder.parameters():
        p.requires_grad_(True)
    weights_mb = sum(p.numel() * p.element_size() for p in encoder.parameters()) / 2**20
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = 0.0
    with _PeakRss() as rss:
        base = rss.peak
        for b in batches:
            start = time.perf_counter()
            out = encoder({k: v.to(device) for k, v in b.items() if k != "labels"})
            out.float().pow(2).mean().backward()
            _sync(device)
            seconds = time.perf_counter() - start
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        # the process held the weights before the step; what the step added comes on top
        peak = weights_mb + max(0.0, rss.peak - base)
    return seconds, peak


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
