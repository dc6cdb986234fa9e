"""``bitfit``: only the backbone's bias terms and the head train (Ben Zaken et al., 2022).

No adapters are added, so there is nothing to merge: the saved model is the backbone's own
parameter names, and every family works (any module with a bias). BatchNorm layers are kept in
eval mode while training so their running statistics stay as pretrained: with "biases only",
the rest of the backbone, buffers included, is left exactly as it was.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from domainfit.errors import ConfigError
from domainfit.strategies.base import STRATEGIES, Strategy
from domainfit.strategies.param_sets import own_groups


def is_bias(name: str) -> bool:
    return name.rsplit(".", 1)[-1] == "bias"


@STRATEGIES.register("bitfit")
class BitFit(Strategy):
    name = "bitfit"

    def param_groups(self) -> list[dict[str, Any]]:
        fixed = {id(p) for p in self._fixed}  # e.g. regularize.batchnorm=frozen
        biases = []
        for group in self.groups:
            for name, p in group.params:
                on = is_bias(name) and id(p) not in fixed
                p.requires_grad_(on)
                if on:
                    biases.append(p)
        if not biases:
            raise ConfigError(
                "strategy bitfit: the backbone has no bias parameters to train",
                "choose another strategy.name, e.g. lora or full",
            )
        head = list(self.head.parameters())
        for p in head:
            p.requires_grad_(True)
        return own_groups(self, biases + head)

    def set_train_mode(self, model: nn.Module) -> None:
        super().set_train_mode(model)  # regularisers' modes
        encoder = getattr(model, "encoder", model)
        for module in encoder.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
