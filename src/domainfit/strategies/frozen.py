"""``frozen``: the backbone is fixed (no gradients, eval mode so BatchNorm statistics and
dropout stay as pretrained); only the head trains."""

from __future__ import annotations

from typing import Any

from torch import nn

from domainfit.strategies.base import STRATEGIES, Strategy


@STRATEGIES.register("frozen")
class Frozen(Strategy):
    name = "frozen"

    def param_groups(self) -> list[dict[str, Any]]:
        for g in self.groups:
            for _, p in g.params:
                p.requires_grad_(False)
        return [{"params": list(self.head.parameters()), "lr": self.cfg.train.lr}]

    def set_train_mode(self, model: nn.Module) -> None:
        encoder = getattr(model, "encoder", None)
        if encoder is not None:
            encoder.eval()
