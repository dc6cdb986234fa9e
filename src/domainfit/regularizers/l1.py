"""``regularize.l1``: ``l1 * sum |w|`` over every parameter that trains (head included), which
pushes small weights to exactly zero; its gradient is ``l1 * sign(w)``."""

from __future__ import annotations

import torch

from domainfit.config import RegularizeConfig
from domainfit.regularizers.base import REGULARIZERS, Regularizer, trained


@REGULARIZERS.register("l1")
class L1(Regularizer):
    @classmethod
    def active(cls, cfg: RegularizeConfig) -> bool:
        return cfg.l1 > 0

    def penalty(self) -> torch.Tensor | None:
        params = trained(self.target.backbone) + trained(self.target.head)
        if not params:
            return None
        return self.cfg.l1 * torch.stack([p.abs().sum() for p in params]).sum()
