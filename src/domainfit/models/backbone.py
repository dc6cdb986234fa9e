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
from domainfit.errors import ConfigError
from domainfit.models.specs import BackboneSpec, parse_spec
from domainfit.registry import Registry

Modality = Literal["text", "image", "features"]


@dataclass
class Backbone:
    """``encoder`` maps a batch dict to pooled features of width ``out_features``.

    ``inner`` is the library's own module; layer groups are declared over its parameter names.
    ``weights_source`` says where the starting weights came from; None: random initialisation.
    """

    encoder: nn.Module
    inner: nn.Module
    family: str
    modality: Modality
    out_features: int
    spec: BackboneSpec
    weights_source: str | None = None
    tokenizer_path: str | None = None


LoaderFn = Callable[[BackboneSpec, ModelConfig], Backbone]
LOADERS: Registry[LoaderFn] = Registry("backbone kind")


def load_backbone(cfg: ModelConfig, *, input_width: int | None = None) -> Backbone:
    """``input_width``: the preprocessed feature width, for backbones built from the data (mlp)."""
    spec = parse_spec(cfg.backbone)
    _register_builtin()
    if spec.kind == "mlp":
        from domainfit.models.mlp_models import load_mlp

        if cfg.gradient_checkpointing:
            raise checkpointing_refused("mlp")
        return load_mlp(spec, cfg, input_width)
    backbone = LOADERS.get(spec.kind)(spec, cfg)
    if not cfg.pretrained:
        reinitialise(backbone.inner)
        backbone.weights_source = None
    if cfg.gradient_checkpointing:
        enable_checkpointing(backbone)
    return backbone


def enable_checkpointing(backbone: Backbone) -> None:
    """Recompute each block's activations in the backward pass instead of keeping them
    (``model.gradient_checkpointing``): Hugging Face models through their own switch, timm
    models (and local or python ones with timm's ``set_grad_checkpointing``) through theirs.
    Anything else is refused rather than silently trained without it."""
    inner = backbone.inner
    if callable(getattr(inner, "gradient_checkpointing_enable", None)):
        from domainfit.models.hf_models import enable_hf_checkpointing

        enable_hf_checkpointing(inner)  # type: ignore[arg-type]
    elif callable(getattr(inner, "set_grad_checkpointing", None)):
        from domainfit.models.timm_models import enable_timm_checkpointing

        enable_timm_checkpointing(inner, str(backbone.spec))
    else:
        kind = backbone.spec.kind
        library = type(inner).__module__.split(".")[0]
        raise checkpointing_refused(f"{kind} ({library})" if kind in ("local", "python") else kind)


def checkpointing_refused(what: str) -> ConfigError:
    return ConfigError(
        f"model.gradient_checkpointing is not supported for {what} backbones", "remove it"
    )


def is_pretrained(cfg: ModelConfig) -> bool:
    """Whether the backbone starts from learnt weights: Hugging Face, local and named models
    load them; timm and torchvision ones only from ``model.weights`` or an allowed download;
    ``mlp`` only from ``model.weights``; ``model.pretrained: false`` never."""
    kind = parse_spec(cfg.backbone).kind
    if not cfg.pretrained:
        return False
    if kind == "mlp":
        return cfg.weights is not None
    if kind in ("timm", "torchvision"):
        return cfg.weights is not None or cfg.allow_download
    return True


def random_start_fix(spec: BackboneSpec) -> str:
    """The config change that gives a randomly initialised image backbone learnt weights."""
    return (
        "set model.allow_download: true (timm and torchvision fetch ImageNet weights once and "
        "cache them), model.weights: FILE, or model.backbone: efficientnet-lite0 (ImageNet "
        f"weights offline); model.pretrained: false says a random start of {spec} is meant"
    )


def reinitialise(model: nn.Module) -> None:
    """Fresh random weights in place (from torch's current generator, so seeded runs repeat):
    the library's own initialisation where it has one (Hugging Face), else each module's
    ``reset_parameters`` (which also clears BatchNorm statistics)."""
    init = getattr(model, "_init_weights", None)
    # Hugging Face marks modules and tensors loaded from a checkpoint and its initialisers
    # skip marked ones: the marks go first, then the per-module initialiser runs on each
    if callable(init):
        for obj in [*model.modules(), *model.parameters(), *model.buffers()]:
            if getattr(obj, "_is_hf_initialized", False):
                obj._is_hf_initialized = False
        for module in model.modules():
            init(module)
        return
    for module in model.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()


def _register_builtin() -> None:
    # Imported lazily: each pulls in a large library (transformers, timm, torchvision).
    from domainfit.models import (  # noqa: F401
        hf_models,
        local_models,
        named_backbones,
        python_models,
        timm_models,
        torchvision_models,
    )


class PooledEncoder(nn.Module):
    """Modules that already return (B, D) features from an ``x`` tensor (timm, torchvision)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.spec_mask: dict[str, float] | None = None  # SpecAugment, set by augment

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        x = batch["x"] if "x" in batch else self._spectrogram(batch)
        out = self.model(x)
        return out.flatten(1) if out.dim() > 2 else out

    def _spectrogram(self, batch: dict[str, Any]) -> torch.Tensor:
        """Audio batches carry waveforms and (sample rate, image size) per row."""
        from domainfit.models.audio_frontend import spectrogram_image

        rate, size = (int(v) for v in batch["audio_meta"][0].tolist())
        mask = self.spec_mask if self.training else None
        return spectrogram_image(batch["wave"], rate, size, mask)
