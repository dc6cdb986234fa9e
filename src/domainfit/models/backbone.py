"""A pretrained backbone as a feature extractor: ``forward(batch) -> (B, D)`` pooled features.

``load_backbone`` dispatches on the spec's kind to one small loader module per library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from domainfit.config import ModelConfig
from domainfit.models.specs import BackboneSpec, parse_spec
from domainfit.registry import Registry

Modality = Literal["text", "image", "features"]


@dataclass
class Backbone:
    """``encoder`` maps a batch dict to pooled features of width ``out_features``.

    ``inner`` is the library's own module; layer groups are declared over its parameter names.
    """

    encoder: nn.Module
    inner: nn.Module
    family: str
    modality: Modality
    out_features: int
    spec: BackboneSpec
    tokenizer_path: str | None = None


LoaderFn = Callable[[BackboneSpec, ModelConfig], Backbone]
LOADERS: Registry[LoaderFn] = Registry("backbone kind")


def load_backbone(cfg: ModelConfig, *, input_width: int | None = None) -> Backbone:
    """``input_width``: the preprocessed feature width, for backbones built from the data (mlp)."""
    spec = parse_spec(cfg.backbone)
    _register_builtin()
    if spec.kind == "mlp":
        from domainfit.models.mlp_models import load_mlp

        return load_mlp(spec, cfg, input_width)
    return LOADERS.get(spec.kind)(spec, cfg)


def _register_builtin() -> None:
    # Imported lazily: each pulls in a large library (transformers, timm, torchvision).
    from domainfit.models import (  # noqa: F401
        hf_models,
        local_models,
        python_models,
        timm_models,
        torchvision_models,
    )


class PooledEncoder(nn.Module):
    """Modules that already return (B, D) features from an ``x`` tensor (timm, torchvision)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        out = self.model(batch["x"])
        return out.flatten(1) if out.dim() > 2 else out
