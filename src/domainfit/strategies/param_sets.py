"""Optimizer groups for strategies that pick single parameters rather than layer groups
(lora's adapters, bitfit's biases), with the weight-decay split every strategy applies."""

from __future__ import annotations

from typing import Any

from torch import nn

from domainfit.regularizers import split_decay
from domainfit.strategies.base import Strategy


def own_groups(strategy: Strategy, params: list[nn.Parameter]) -> list[dict[str, Any]]:
    """All ``params`` at ``train.lr``: biases and norm weights exempt from weight decay unless
    ``regularize.decay_norm_bias`` (as in the base's layer-group split)."""
    cfg = strategy.cfg
    skip = set() if cfg.regularize.decay_norm_bias else strategy._exempt_ids(strategy.all_groups())
    decayed, plain = split_decay(params, skip)
    lr, decay, name = cfg.train.lr, cfg.train.weight_decay, strategy.name
    groups = [
        {"name": name, "params": decayed, "lr": lr, "weight_decay": decay},
        {"name": f"{name}.no_decay", "params": plain, "lr": lr, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]
