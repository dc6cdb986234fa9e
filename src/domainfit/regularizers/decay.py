"""Which parameters weight decay skips (``regularize.decay_norm_bias=false``, the default).

Decaying a bias or a normalisation scale towards zero does not limit capacity, it only shifts
or shrinks activations, so the common practice (BERT, timm) is to exempt them. Module types
decide first (any normalisation layer), then names (biases, timm's position and class tokens),
then shape: 1-D parameters of unknown modules are scales or offsets too.
"""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
    nn.RMSNorm,
)
TOKEN_NAMES = frozenset({"cls_token", "pos_embed", "dist_token", "reg_token"})


def skips_decay(name: str, p: nn.Parameter) -> bool:
    leaf = name.rsplit(".", 1)[-1]
    return leaf.endswith("bias") or leaf in TOKEN_NAMES or p.ndim <= 1


def no_decay_ids(modules: Iterable[nn.Module]) -> set[int]:
    """``id``s of the parameters of ``modules`` that weight decay should skip."""
    out: set[int] = set()
    for root in modules:
        for mod in root.modules():
            norm = isinstance(mod, NORM_TYPES)
            for name, p in mod.named_parameters(recurse=False):
                if norm or skips_decay(name, p):
                    out.add(id(p))
    return out


def split_decay(
    params: list[nn.Parameter], skip: set[int]
) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(decayed, exempt), each in the order given."""
    return [p for p in params if id(p) not in skip], [p for p in params if id(p) in skip]
