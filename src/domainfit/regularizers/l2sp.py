"""``regularize.l2sp`` (Li et al., 2018, "Explicit inductive bias for transfer learning"):
``l2sp / 2 * ||w - w0||^2`` over the backbone parameters that train, where ``w0`` are the
pretrained weights. Unlike weight decay, it pulls towards what was learnt, not towards zero.
The gradient is ``l2sp * (w - w0)``. The head is new (it has no pretrained value): excluded.
"""

from __future__ import annotations

import torch

from domainfit.config import RegularizeConfig
from domainfit.regularizers.base import REGULARIZERS, Regularizer, Target


@REGULARIZERS.register("l2sp")
class L2SP(Regularizer):
    def __init__(self, cfg: RegularizeConfig, target: Target) -> None:
        super().__init__(cfg, target)
        # The snapshot is taken here, when the run is built from the loaded backbone and before
        # any training step, so it is the pretrained weights. A resumed run rebuilds it the same
        # way before the checkpoint is loaded, so it needs no place in the checkpoint.
        self.anchor = {id(p): p.detach().clone() for _, p in target.backbone}

    @classmethod
    def active(cls, cfg: RegularizeConfig) -> bool:
        return cfg.l2sp > 0

    def penalty(self) -> torch.Tensor | None:
        terms = []
        for _, p in self.target.backbone:
            if not p.requires_grad:
                continue
            w0 = self.anchor[id(p)]
            if w0.device != p.device:  # the trainer moves the model after the run is built
                w0 = self.anchor[id(p)] = w0.to(p.device)
            terms.append((p - w0).pow(2).sum())
        if not terms:
            return None
        return 0.5 * self.cfg.l2sp * torch.stack(terms).sum()
