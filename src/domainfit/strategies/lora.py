"""``lora``: low-rank adapters (Hu et al., 2021) through ``peft``; only the adapters and the head
train. ``finalize`` folds each adapter into its base weight and removes it, so a run's saved
model is a plain backbone + head state dict that ``predict`` and ``export`` load without peft."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from domainfit.config import LoraSettings, RunConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import Backbone
from domainfit.strategies.base import STRATEGIES, Strategy
from domainfit.strategies.param_sets import own_groups

# The attention projections adapted by default, per layer-group family (see models/groups.py).
# Query and value follow the LoRA paper's choice; convolutional families have no default.
DEFAULT_TARGETS: dict[str, list[str]] = {
    "bert": ["query", "value"],
    "distilbert": ["q_lin", "v_lin"],
    "hf_vit": ["query", "value"],
    "timm_vit": ["qkv"],
}
ADAPTER_MARK = "lora_"  # peft names adapter parameters ...lora_A.<adapter>.weight


def target_modules(settings: LoraSettings, family: str) -> list[str]:
    if settings.target_modules:
        return list(settings.target_modules)
    if family not in DEFAULT_TARGETS:
        known = ", ".join(sorted(DEFAULT_TARGETS))
        raise ConfigError(
            f"strategy lora has no default target modules for the '{family}' backbone family "
            f"(defaults exist for: {known})",
            "set strategy.lora.target_modules to the names of Linear or Conv2d layers to adapt, "
            "e.g. [query, value] or [conv1, conv2]",
        )
    return DEFAULT_TARGETS[family]


def is_adapter(name: str) -> bool:
    return ADAPTER_MARK in name


@STRATEGIES.register("lora")
class Lora(Strategy):
    name = "lora"

    @classmethod
    def prepare(cls, cfg: RunConfig, backbone: Backbone) -> None:
        """Insert adapters into ``backbone.inner`` in place: the encoder wraps that very module,
        and the layer groups read afterwards see the adapters inside each block."""
        from peft import LoraConfig, inject_adapter_in_model

        settings = cfg.strategy.lora
        targets = target_modules(settings, backbone.family)
        peft_cfg = LoraConfig(
            r=settings.r,
            lora_alpha=settings.alpha,
            lora_dropout=settings.dropout,
            target_modules=targets,
            bias="none",
        )
        # Adapter A matrices draw from torch's RNG: build_session seeds it first, so a resumed
        # run rebuilds the same parameter names and shapes the checkpoint holds.
        try:
            inject_adapter_in_model(peft_cfg, backbone.inner)
        except ValueError as err:  # peft's NoMatchingPeftModuleError and unsupported layers
            layers = sorted(
                {n.rsplit(".", 1)[-1] for n, m in backbone.inner.named_modules() if _adaptable(m)}
            )
            raise ConfigError(
                f"strategy lora cannot adapt {targets} in this backbone ({_first_line(err)})",
                f"set strategy.lora.target_modules to Linear or Conv2d layers it has: "
                f"{', '.join(layers[:12]) or 'none'}",
            ) from None

    def param_groups(self) -> list[dict[str, Any]]:
        adapters = []
        for group in self.groups:
            for name, p in group.params:  # the base weights stay frozen
                p.requires_grad_(is_adapter(name))
                if is_adapter(name):
                    adapters.append(p)
        if not adapters:
            raise ConfigError(
                "strategy lora found no adapters in the backbone's layer groups",
                "build the model with Lora.prepare(cfg, backbone) before reading its groups",
            )
        head = list(self.head.parameters())
        for p in head:
            p.requires_grad_(True)
        return own_groups(self, adapters + head)

    def finalize(self, model: nn.Module) -> None:
        merge_adapters(model)


@torch.no_grad()
def merge_adapters(model: nn.Module) -> int:
    """W <- W + scale * B @ A for every adapted layer, then the layer is replaced by its base
    layer, so parameter names are the backbone's own again. Returns how many were merged."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    tuned = [(n, m) for n, m in model.named_modules() if isinstance(m, BaseTunerLayer)]
    for name, layer in tuned:
        layer.merge()
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        base = layer.get_base_layer()
        for p in base.parameters():
            p.requires_grad_(True)  # as a freshly loaded backbone has it
        setattr(parent, child, base)
    return len(tuned)


def _adaptable(module: nn.Module) -> bool:
    return isinstance(module, (nn.Linear, nn.Conv2d))


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__


def load_merged(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load a saved (merged, adapter-free) state dict into a model that has adapters: each base
    weight takes the saved value and the adapters keep their initialisation (B = 0, so the model
    computes exactly what the saved one does). A model without adapters loads it as is."""
    own = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    for key in own:
        plain = key.replace(".base_layer.", ".")
        if plain in state:
            mapped[key] = state[plain]
        elif not is_adapter(key):
            raise ConfigError(
                f"the saved weights have no '{plain}'", "use weights saved by the same config"
            )
    extra = set(state) - {k.replace(".base_layer.", ".") for k in own}
    if extra:
        raise ConfigError(
            f"the saved weights hold {len(extra)} tensors this model lacks, e.g. "
            f"'{sorted(extra)[0]}'",
            "use weights saved by the same config",
        )
    model.load_state_dict(mapped, strict=False)
