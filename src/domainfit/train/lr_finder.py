"""Learning-rate range test (Smith, 2017): train on a few batches while the learning rate grows
exponentially, record the smoothed loss, stop when it diverges, and suggest a learning rate.

The sweep runs on the very model, optimizer and parameter groups ``fit`` trains; afterwards the
weights, gradients, ``requires_grad`` flags, train/eval modes, the optimizer (state and groups),
the strategy's state and the RNG states are put back exactly, so a sweep can run at any moment:
before training, on a finished model, between two fits (fastai #3658 crashed in that case because
its suggestion read a recorder left over from fine-tuning; here each sweep records afresh, and
the suggestion copes with curves that never descend).

Suggestion rule: the learning rate where the smoothed loss falls fastest, i.e. the most negative
d loss / d log10(lr) before the loss reaches its minimum ("steepest"). When the loss never falls
(e.g. a model already trained to a near-zero loss), the minimum's learning rate divided by 10
("minimum/10"). Every group's rate moves by the same factor, so ratios between groups
(layer-wise rates) are kept and the suggestion is a value for ``train.lr``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from domainfit.config import TrainConfig
from domainfit.data.loaders import Batches, EncodedSet
from domainfit.errors import ConfigError
from domainfit.train.checkpoint import rng_state, set_rng_state
from domainfit.train.step_losses import align

SMOOTHING = 0.98  # exponential moving average of the loss, bias-corrected
DIVERGE = 4.0  # stop once the smoothed loss exceeds this multiple of its best value

StepCallback = Callable[[int, float, float], None]  # (step, lr, smoothed loss)


@dataclass
class LRFindResult:
    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    rule: str  # "steepest" or "minimum/10"
    diverged: bool
    start: float
    end: float
    steps: int
    candidates: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lr_range_test(
    model: nn.Module,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: EncodedSet,
    cfg: TrainConfig,
    *,
    accelerator: Any,
    start: float = 1e-7,
    end: float = 1.0,
    steps: int = 100,
    seed: int = 0,
    hooks: Any = None,
    penalty: Callable[[nn.Module], torch.Tensor | None] | None = None,
    on_step: StepCallback | None = None,
) -> LRFindResult:
    """Sweep ``train.lr`` from ``start`` to ``end`` over ``steps`` optimizer steps (each of
    ``cfg.grad_accum`` batches, clipped as ``fit`` clips); everything is restored afterwards."""
    _check_range(start, end, steps)
    saved = _Snapshot(model, optimizer, hooks)
    try:
        lrs, losses, smoothed, diverged = _sweep(
            model, loss_fn, optimizer, data, cfg, accelerator, start, end, steps, seed, hooks,
            penalty, on_step,
        )  # fmt: skip
    finally:
        saved.restore(model, optimizer, hooks)
    if not lrs:
        raise ConfigError(
            f"the loss was not finite at the first learning rate ({start:g})",
            "lower --start, or check the inputs for NaN/Inf",
        )
    candidates = suggestions(lrs, smoothed)
    rule = "steepest" if candidates["steepest"] is not None else "minimum/10"
    value = candidates[rule]
    assert value is not None
    return LRFindResult(lrs, losses, smoothed, value, rule, diverged, start, end, steps, candidates)


def suggestions(lrs: list[float], smoothed: list[float]) -> dict[str, float | None]:
    """``steepest`` (None when the loss never falls before its minimum) and ``minimum/10``."""
    lowest = int(np.argmin(smoothed))
    out: dict[str, float | None] = {"steepest": None, "minimum/10": lrs[lowest] / 10}
    if lowest >= 2:  # np.gradient needs 2 points; 3 make the slope mean something
        slope = np.gradient(np.asarray(smoothed[: lowest + 1]), np.log10(lrs[: lowest + 1]))
        i = int(np.argmin(slope))
        if slope[i] < 0:
            out["steepest"] = lrs[i]
    return out


def _check_range(start: float, end: float, steps: int) -> None:
    if not (0 < start < end):
        raise ConfigError(
            f"learning-rate range {start:g} .. {end:g} is empty", "give 0 < --start < --end"
        )
    if steps < 5:
        raise ConfigError(f"--steps {steps} is too few for a curve", "use --steps 5 or more")


def _sweep(
    model: nn.Module,
    loss_fn: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: EncodedSet,
    cfg: TrainConfig,
    accelerator: Any,
    start: float,
    end: float,
    steps: int,
    seed: int,
    hooks: Any,
    penalty: Callable[[nn.Module], torch.Tensor | None] | None,
    on_step: StepCallback | None,
) -> tuple[list[float], list[float], list[float], bool]:
    if hooks is not None:
        hooks.on_epoch_start(0, optimizer)  # what trains in fit's first epoch
    model.train()
    if hooks is not None:
        hooks.set_train_mode(model)
    # A scheduler may have decayed "lr" (to 0 after a finished linear schedule): scale from the
    # rates training started with, relative to train.lr.
    scales = [g.get("initial_lr", g["lr"]) / cfg.lr for g in optimizer.param_groups]
    batches = _endless(data, cfg.batch_size, seed)
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    avg, best = 0.0, math.inf
    for i, lr in enumerate(np.geomspace(start, end, steps)):
        for group, scale in zip(optimizer.param_groups, scales, strict=True):
            group["lr"] = float(lr) * scale
        loss = _accumulate(model, loss_fn, batches, cfg.grad_accum, accelerator, penalty)
        if not math.isfinite(loss):
            optimizer.zero_grad(set_to_none=True)
            return lrs, losses, smoothed, True
        if cfg.clip_grad_norm is not None:
            accelerator.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        avg = SMOOTHING * avg + (1 - SMOOTHING) * loss
        value = avg / (1 - SMOOTHING ** (i + 1))
        lrs.append(float(lr))
        losses.append(loss)
        smoothed.append(value)
        best = min(best, value)
        if on_step is not None:
            on_step(i, float(lr), value)
        if value > DIVERGE * best:
            return lrs, losses, smoothed, True
    return lrs, losses, smoothed, False


def _accumulate(
    model: nn.Module,
    loss_fn: nn.Module,
    batches: Iterator[dict[str, torch.Tensor]],
    accum: int,
    accelerator: Any,
    penalty: Callable[[nn.Module], torch.Tensor | None] | None,
) -> float:
    """One optimizer step's gradients, as the trainer accumulates them; returns the task loss."""
    total = 0.0
    for _ in range(accum):
        batch = {k: v.to(accelerator.device) for k, v in next(batches).items()}
        with accelerator.autocast():
            loss = loss_fn(*align(model(batch), batch["labels"]))
        if not torch.isfinite(loss):
            return math.inf
        extra = penalty(model) if penalty is not None else None
        accelerator.backward((loss if extra is None else loss + extra) / accum)
        total += float(loss.detach()) / accum
    return total


def _endless(data: EncodedSet, batch_size: int, seed: int) -> Iterator[dict[str, torch.Tensor]]:
    """Training batches in fit's shuffled order, epoch after epoch, for as long as asked."""
    epoch = 0
    while True:
        yield from Batches(data, batch_size, shuffle=True, seed=seed, epoch=epoch)
        epoch += 1


class _Snapshot:
    """Everything a sweep changes, copied so it can be put back bit for bit."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, hooks: Any) -> None:
        self.weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        params = list(model.named_parameters())
        self.grads = {n: None if p.grad is None else p.grad.detach().clone() for n, p in params}
        self.requires_grad = {n: p.requires_grad for n, p in params}
        self.modes = {n: m.training for n, m in model.named_modules()}
        # Groups first (a strategy hook may add some), then state and hyperparameters.
        self.groups = [{**g, "params": list(g["params"])} for g in optimizer.param_groups]
        self.optimizer = copy.deepcopy(optimizer.state_dict())
        self.strategy = copy.deepcopy(hooks.state_dict()) if hooks is not None else None
        self.rng = rng_state()
        self.cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None

    def restore(self, model: nn.Module, optimizer: torch.optim.Optimizer, hooks: Any) -> None:
        model.load_state_dict(self.weights)  # copies into the same tensors the optimizer holds
        for name, p in model.named_parameters():
            p.requires_grad_(self.requires_grad[name])
            grad = self.grads[name]
            p.grad = None if grad is None else grad.clone()
        for name, module in model.named_modules():
            module.training = self.modes[name]  # not .train(): that would recurse into children
        optimizer.param_groups[:] = self.groups
        optimizer.load_state_dict(self.optimizer)
        if hooks is not None:
            hooks.load_state_dict(self.strategy)
        set_rng_state(self.rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)


def save_plot(result: LRFindResult, path: Path) -> None:
    """Loss against learning rate (log axis), the suggestion marked; written atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2))
    FigureCanvasAgg(fig)  # Agg: no display needed, no pyplot global state
    ax = fig.add_subplot()
    ax.plot(result.lrs, result.losses, color="0.75", linewidth=1, label="loss per step")
    ax.plot(result.lrs, result.smoothed, color="C0", label="smoothed loss")
    at = float(np.interp(np.log10(result.suggestion), np.log10(result.lrs), result.smoothed))
    ax.axvline(result.suggestion, color="C3", linestyle="--", linewidth=1)
    ax.plot([result.suggestion], [at], "o", color="C3", label=f"suggested {result.suggestion:.1e}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (train.lr)")
    ax.set_ylabel("training loss")
    ax.set_title(f"learning-rate range test ({result.rule})")
    ax.legend(loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    tmp.replace(path)


class SweepProgress:
    """The sweep's progress like fit's epochs (``domainfit.progress``): a bar with ETA, the
    current learning rate and smoothed loss on a terminal, heartbeat lines in logs, nothing in
    quiet mode. Use ``update`` as ``on_step``."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.phase: Any = None
        self.metric = ""

    def __enter__(self) -> SweepProgress:
        from domainfit.progress import phase

        self.phase = phase("lr-find", self.steps, unit="step", bar_after=0.0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.phase is not None:
            self.phase.close()

    def update(self, step: int, lr: float, loss: float) -> None:
        if self.phase is not None:
            self.metric = f"lr {lr:.1e} · loss {loss:.4f}"
            self.phase.advance(step + 1 - self.phase.done, metric=lambda: self.metric)
