"""``regularize.dropout``: one dropout probability for every dropout layer of the backbone
(the head has its own, ``model.head.dropout``). Hugging Face attention reads ``dropout.p`` of
its module at each call, so attention dropout follows too."""

from __future__ import annotations

from torch import nn

from domainfit.config import RegularizeConfig
from domainfit.regularizers.base import REGULARIZERS, Regularizer

Dropout = nn.modules.dropout._DropoutNd  # Dropout, Dropout1d/2d/3d, AlphaDropout


def set_dropout(module: nn.Module, p: float) -> int:
    """Returns how many layers were changed."""
    layers = [m for m in module.modules() if isinstance(m, Dropout)]
    for m in layers:
        m.p = p
    return len(layers)


@REGULARIZERS.register("dropout")
class DropoutOverride(Regularizer):
    @classmethod
    def active(cls, cfg: RegularizeConfig) -> bool:
        return cfg.dropout is not None

    def set_train_mode(self, model: nn.Module) -> None:
        # Dropout acts only in train mode, so setting it when training starts is enough.
        module = self.target.backbone_module(model)
        if module is not None and self.cfg.dropout is not None:
            set_dropout(module, self.cfg.dropout)
