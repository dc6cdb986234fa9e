"""``frozen``: the backbone is fixed and only the head trains, through the backbone every step
(no caching, so input augmentation still reaches the head). The backbone runs in eval mode:
BatchNorm statistics and dropout stay as pretrained, which is what a frozen model means."""

from __future__ import annotations

from torch import nn

from domainfit.strategies.base import HEAD, STRATEGIES, Strategy


@STRATEGIES.register("frozen")
class Frozen(Strategy):
    name = "frozen"

    def group_lrs(self) -> dict[str, float]:
        return {HEAD: self.cfg.train.lr}

    def set_train_mode(self, model: nn.Module) -> None:
        super().set_train_mode(model)
        encoder = getattr(model, "encoder", None)
        if encoder is not None:
            encoder.eval()
