"""What a run's backbone started from, told to the user: random weights where pretrained ones
were meant are the silent failure of transfer learning (a timm or torchvision name without
``model.weights`` or an allowed download builds the architecture only)."""

from __future__ import annotations

import sys

from domainfit.config import ModelConfig
from domainfit.models.backbone import Backbone, random_start_fix
from domainfit.train import distributed


def random_start(cfg: ModelConfig | None, backbone: Backbone) -> bool:
    """Pretrained weights were meant (``model.pretrained`` is on) but the start is random."""
    if cfg is None:
        return False
    return cfg.pretrained and backbone.weights_source is None and backbone.spec.kind != "mlp"


def warn_random_start(cfg: ModelConfig | None, backbone: Backbone) -> None:
    if random_start(cfg, backbone) and distributed.is_main():
        print(
            f"warning: {backbone.spec} starts from random weights, so this run transfers "
            f"nothing; {random_start_fix(backbone.spec)}",
            file=sys.stderr,
        )


def image_inputs_of(cfg: ModelConfig | None, backbone: Backbone) -> dict[str, object] | None:
    """How the images were prepared, for users of the model outside domainfit."""
    from domainfit.models.image_convention import image_convention

    if cfg is None or backbone.modality != "image":
        return None
    return image_convention(cfg).describe()


def start_facts(cfg: ModelConfig, backbone: Backbone) -> dict[str, object]:
    """What ``inspect`` shows above the plan: the spec, where its weights came from, whether
    that start is random where pretrained weights were meant, and the image inputs."""
    return {
        "backbone": str(backbone.spec),
        "weights_source": backbone.weights_source,
        "random_start": random_start(cfg, backbone),
        "image_inputs": image_inputs_of(cfg, backbone),
    }
