"""Hugging Face backbones through the Auto classes, offline unless the config allows downloads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import LOADERS, Backbone
from domainfit.models.specs import BackboneSpec
from domainfit.models.weights import load_into

if TYPE_CHECKING:
    from transformers import PreTrainedModel

# model_type -> layer-group family (see groups.py); anything else falls back to "generic".
_FAMILIES = {
    "bert": "bert",
    "roberta": "bert",
    "distilbert": "distilbert",
    "electra": "bert",
    "xlm-roberta": "bert",
    "vit": "hf_vit",
    "resnet": "hf_resnet",
    "convnext": "hf_convnext",
}


class HFTextEncoder(nn.Module):
    """Pools the last hidden state: the first token (``cls``) or the masked mean (``mean``)."""

    def __init__(self, model: nn.Module, pooling: str, layer: int | None = None) -> None:
        super().__init__()
        self.model = model
        self.pooling = pooling
        # None: the last layer; k: the output of layer k (0 = the embeddings), for ranking
        # the layers of one model as candidates
        self.layer = layer

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        mask = batch["attention_mask"]
        inputs = {
            k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")
        }
        if self.layer is None:
            hidden = self.model(**inputs).last_hidden_state
        else:
            hidden = self.model(**inputs, output_hidden_states=True).hidden_states[self.layer]
        if self.pooling == "cls":
            return hidden[:, 0]
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


class HFVisionEncoder(nn.Module):
    """Uses the model's pooled output when it has one, else the mean over positions."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        out = self.model(pixel_values=batch["x"])
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            hidden = out.last_hidden_state
            pooled = hidden.mean(dim=1) if hidden.dim() == 3 else hidden.mean(dim=(2, 3))
        return pooled.flatten(1)


@LOADERS.register("hf")
def load_hf(spec: BackboneSpec, cfg: ModelConfig) -> Backbone:
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own output stays readable

    target = spec.target
    local = Path(target).expanduser()
    if not local.exists() and not cfg.allow_download:
        raise ConfigError(
            f"Hugging Face model '{target}' is not a local folder and downloads are off",
            "point model.backbone at a folder saved with save_pretrained, "
            "or set model.allow_download=true",
        )
    kwargs: dict[str, Any] = {
        "local_files_only": not cfg.allow_download,
        "trust_remote_code": cfg.trust_remote_code,
    }
    source = str(local) if local.exists() else target
    try:
        hf_config = AutoConfig.from_pretrained(source, **kwargs)
        model = AutoModel.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0][:200]
        raise ConfigError(
            f"cannot load Hugging Face model from {source}: {first}", "check model.backbone"
        ) from None
    if cfg.weights:  # continue from a finished run (or any state dict) of this architecture
        load_into(model, cfg.weights)
    family = _FAMILIES.get(hf_config.model_type, "generic")
    origin = f"file {cfg.weights}" if cfg.weights else f"Hugging Face {source}"
    if hasattr(hf_config, "vocab_size") and not hasattr(hf_config, "num_channels"):
        encoder: nn.Module = HFTextEncoder(model, cfg.pooling)
        width = int(hf_config.hidden_size)
        return Backbone(encoder, model, family, "text", width, spec, origin, tokenizer_path=source)
    width = int(getattr(hf_config, "hidden_size", 0) or hf_config.hidden_sizes[-1])
    return Backbone(HFVisionEncoder(model), model, family, "image", width, spec, origin)


def enable_hf_checkpointing(model: PreTrainedModel) -> None:
    """Non-reentrant checkpointing of each transformer block (active in training mode only).

    Non-reentrant, because then trainable blocks behind frozen ones (frozen embeddings, LoRA on
    frozen weights) get their gradients without the block's input needing one. transformers
    also hooks the embeddings to make their output need a gradient, which only reentrant
    checkpointing needs; that hook is removed, as it would build the autograd graph (and run
    the backward pass) through every frozen layer of a frozen or partly frozen backbone.
    """
    if not getattr(model, "supports_gradient_checkpointing", False):
        raise ConfigError(
            "model.gradient_checkpointing is not supported for Hugging Face "
            f"{type(model).__name__} backbones",
            "remove it",
        )
    kwargs = {"use_reentrant": False}
    # transformers 5 renamed the switch (the old name warns there); 4.x has only the old one
    renamed = getattr(model, "activation_checkpointing_enable", None)
    if callable(renamed):
        renamed(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    disable = getattr(model, "disable_input_require_grads", None)
    if callable(disable):
        disable()
    # A key/value cache is for generation; transformers turns it off under checkpointing
    # anyway, with a warning in every run unless it is off already
    if getattr(model.config, "use_cache", False):
        model.config.use_cache = False
