"""``regularize.batchnorm``: with ``frozen`` every BatchNorm layer of the backbone stays as
pretrained: eval mode (running statistics are used, never updated) and affine parameters that
never train. Small target batches otherwise replace well-estimated statistics with noisy ones.
"""

from __future__ import annotations

from torch import nn

from domainfit.config import RegularizeConfig
from domainfit.regularizers.base import REGULARIZERS, Regularizer

# timm's BatchNormAct2d and friends subclass torch's BatchNorm classes.
BatchNorm = nn.modules.batchnorm._BatchNorm


def batchnorm_layers(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, BatchNorm)]


def rest_idle_batchnorm(module: nn.Module) -> None:
    """BatchNorm layers whose parameters do not train this epoch go to eval mode: a group a
    strategy keeps frozen must not drift through its running statistics either."""
    for m in batchnorm_layers(module):
        params = list(m.parameters(recurse=False))
        if params and not any(p.requires_grad for p in params):
            m.eval()


@REGULARIZERS.register("batchnorm")
class FrozenBatchNorm(Regularizer):
    @classmethod
    def active(cls, cfg: RegularizeConfig) -> bool:
        return cfg.batchnorm == "frozen"

    def never_trains(self) -> set[int]:
        if self.target.module is None:
            return set()
        return {id(p) for m in batchnorm_layers(self.target.module) for p in m.parameters()}

    def set_train_mode(self, model: nn.Module) -> None:
        module = self.target.backbone_module(model)
        for m in batchnorm_layers(module) if module is not None else []:
            m.eval()
