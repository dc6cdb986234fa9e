"""Optimisers and learning-rate schedules (torch's own classes), with optional linear warmup.

Schedules step once per optimizer update. Epoch-based settings (``step_size``, ``milestones``)
are converted to updates with ``steps_per_epoch`` so accumulation and batch size do not change
what an epoch means.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import lr_scheduler as sched

from domainfit.config import TrainConfig


def build_optimizer(groups: list[dict[str, Any]], cfg: TrainConfig) -> torch.optim.Optimizer:
    """``groups`` are torch param groups; a group's own ``lr``/``weight_decay`` win."""
    for g in groups:
        g.setdefault("lr", cfg.lr)
        g.setdefault("weight_decay", cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, betas=cfg.betas)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas)
    return torch.optim.RMSprop(groups, lr=cfg.lr, momentum=cfg.momentum)


def warmup_steps(cfg: TrainConfig, total: int) -> int:
    return int(cfg.warmup_ratio * total) if cfg.warmup_ratio > 0 else min(cfg.warmup_steps, total)


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
) -> sched.LRScheduler:
    total = max(1, steps_per_epoch * cfg.epochs)
    warm = warmup_steps(cfg, total)
    if cfg.schedule == "onecycle":  # has its own warmup phase: pct_start
        max_lrs = [g["lr"] for g in optimizer.param_groups]
        pct = warm / total if warm else 0.3
        return sched.OneCycleLR(optimizer, max_lr=max_lrs, total_steps=total, pct_start=pct)
    main = _main_schedule(optimizer, cfg, steps_per_epoch, total - warm)
    if warm == 0:
        return main
    ramp = sched.LinearLR(
        optimizer, start_factor=1.0 / (warm + 1), end_factor=1.0, total_iters=warm
    )
    return sched.SequentialLR(optimizer, [ramp, main], milestones=[warm])


def _main_schedule(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int, remaining: int
) -> sched.LRScheduler:
    remaining = max(1, remaining)
    if cfg.schedule == "constant":
        return sched.ConstantLR(optimizer, factor=1.0, total_iters=0)
    if cfg.schedule == "step":
        return sched.StepLR(optimizer, step_size=cfg.step_size * steps_per_epoch, gamma=cfg.gamma)
    if cfg.schedule == "multistep":
        steps = [m * steps_per_epoch for m in cfg.milestones]
        return sched.MultiStepLR(optimizer, milestones=steps, gamma=cfg.gamma)
    if cfg.schedule == "exponential":  # gamma per epoch, spread over its updates
        return sched.ExponentialLR(optimizer, gamma=cfg.gamma ** (1.0 / steps_per_epoch))
    if cfg.schedule == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=remaining)
    if cfg.schedule == "inverse":
        return sched.LambdaLR(optimizer, _InverseDecay(remaining))
    return sched.LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=remaining)


class _InverseDecay:
    """Ganin et al. (2016)'s annealing: factor (1 + 10 p)^-0.75, p = step / ``total``. An object,
    whose state (``total``) LambdaLR saves as a plain dict that ``weights_only`` loading reads."""

    def __init__(self, total: int) -> None:
        self.total = total

    def __call__(self, step: int) -> float:
        return (1.0 + 10.0 * min(step, self.total) / self.total) ** -0.75
