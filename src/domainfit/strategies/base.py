"""The Strategy contract. A strategy decides what trains and at which learning rate; the trainer
only sees torch parameter groups and calls the hooks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

from domainfit.config import RunConfig
from domainfit.models.backbone import Backbone
from domainfit.models.groups import LayerGroup
from domainfit.registry import Registry


class Strategy(ABC):
    """``groups`` are the backbone's layer groups shallow to deep; ``head`` is the new head."""

    name = "base"

    def __init__(self, cfg: RunConfig, groups: list[LayerGroup], head: nn.Module) -> None:
        self.cfg = cfg
        self.groups = groups
        self.head = head

    @abstractmethod
    def param_groups(self) -> list[dict[str, Any]]:
        """Torch param groups for the optimizer; frozen parameters are left out."""

    def on_epoch_start(self, epoch: int, optimizer: Any) -> None:  # noqa: B027 (optional hook)
        """Unfreezing and schedules of its own happen here (none in the base)."""

    def set_train_mode(self, model: nn.Module) -> None:  # noqa: B027 (optional hook)
        """Called after ``model.train()``: frozen parts go back to eval mode."""

    def plan(self) -> list[dict[str, Any]]:
        """For ``inspect``: each group, its size, whether it trains and its learning rate."""
        lrs = {
            id(p): g.get("lr", self.cfg.train.lr) for g in self.param_groups() for p in g["params"]
        }
        rows = []
        for grp in [*self.groups, LayerGroup("head", list(self.head.named_parameters()))]:
            trains = [lrs[id(p)] for _, p in grp.params if id(p) in lrs]
            rows.append(
                {
                    "group": grp.name,
                    "params": grp.numel,
                    "trains": bool(trains),
                    "lr": max(trains) if trains else 0.0,
                }
            )
        return rows

    @classmethod
    def prepare(cls, cfg: RunConfig, backbone: Backbone) -> None:
        """Change the backbone before its layer groups are read (adapters); none in the base."""
        return

    def penalty(self, model: nn.Module) -> torch.Tensor | None:
        """An extra loss term the trainer adds to the task loss (L1, L2-SP); none in the base."""
        return None

    def finalize(self, model: nn.Module) -> None:  # noqa: B027 (optional hook)
        """After training, before the final weights are saved: fold adapters back in."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


STRATEGIES: Registry[type[Strategy]] = Registry("strategy")


def strategy_class(cfg: RunConfig) -> type[Strategy]:
    return STRATEGIES.get(cfg.strategy.name)


def build_strategy(cfg: RunConfig, groups: list[LayerGroup], head: nn.Module) -> Strategy:
    return strategy_class(cfg)(cfg, groups, head)
