"""The Regularizer contract: one transfer regulariser per file, registered by name.

A regulariser is built once per run from ``regularize`` and its ``Target`` (the parameters a
strategy may train), at build time, before any training step. Every hook is optional: an extra
loss term, a change of train/eval mode after ``model.train()``, parameters it keeps frozen.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from domainfit.config import RegularizeConfig
from domainfit.registry import Registry

Named = list[tuple[str, nn.Parameter]]


@dataclass
class Target:
    """``backbone``/``head``: named parameters; ``module``: the backbone's own module, for rules
    that need module types (BatchNorm, dropout). ``None`` when a caller has no module."""

    backbone: Named
    head: Named
    module: nn.Module | None = None

    def backbone_module(self, model: nn.Module) -> nn.Module | None:
        """The backbone inside ``model``; never the head, whose dropout the head config owns."""
        return self.module if self.module is not None else getattr(model, "encoder", None)


class Regularizer:
    """Base: does nothing. Subclasses set ``active`` from the config and override hooks."""

    def __init__(self, cfg: RegularizeConfig, target: Target) -> None:
        self.cfg = cfg
        self.target = target

    @classmethod
    def active(cls, cfg: RegularizeConfig) -> bool:
        return False

    def penalty(self) -> torch.Tensor | None:
        """An extra loss term over the parameters that train now (``requires_grad``)."""
        return None

    def set_train_mode(self, model: nn.Module) -> None:
        """Called after ``model.train()`` each epoch."""

    def never_trains(self) -> set[int]:
        """``id``s of parameters that must stay fixed whatever the strategy says."""
        return set()


REGULARIZERS: Registry[type[Regularizer]] = Registry("regularizer")


def build_regularizers(cfg: RegularizeConfig, target: Target) -> list[Regularizer]:
    """The active regularisers, in registration order."""
    classes = [REGULARIZERS.get(name) for name in REGULARIZERS]
    return [cls(cfg, target) for cls in classes if cls.active(cfg)]


def trained(named: Named) -> list[nn.Parameter]:
    """Penalties cover only what trains now: a frozen parameter has no gradient to receive."""
    return [p for _, p in named if p.requires_grad]
