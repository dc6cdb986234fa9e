"""timm backbones: built without a classifier, weights from a local file only."""

from __future__ import annotations

import torch
from torch import nn

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import LOADERS, Backbone, PooledEncoder
from domainfit.models.specs import BackboneSpec
from domainfit.models.weights import load_into

_FAMILIES = (
    ("resnet", "timm_resnet"),
    ("convnext", "timm_convnext"),
    ("vit", "timm_vit"),
    ("efficientnet", "timm_efficientnet"),
)


def build_timm(name: str, **kwargs: object) -> nn.Module:
    import timm

    try:
        return timm.create_model(name, pretrained=False, num_classes=0, **kwargs)
    except RuntimeError as err:  # timm's "Unknown model"
        close = timm.list_models(f"*{name.split('_')[0]}*")[:5]
        raise ConfigError(
            f"timm has no model '{name}' ({err})", f"similar names: {', '.join(close) or 'none'}"
        ) from None


def timm_family(name: str) -> str:
    return next((fam for key, fam in _FAMILIES if name.startswith(key)), "generic")


@LOADERS.register("timm")
def load_timm(spec: BackboneSpec, cfg: ModelConfig) -> Backbone:
    model = build_timm(spec.target)
    if cfg.weights:
        load_into(model, cfg.weights)
    width = int(model.num_features)
    return Backbone(PooledEncoder(model), model, timm_family(spec.target), "image", width, spec)


def enable_timm_checkpointing(model: nn.Module, spec: str) -> None:
    """timm's per-stage checkpointing. Non-reentrant (timm's default, forced here in case the
    environment flipped it) so that frozen stems still pass gradients to trainable stages."""
    from timm.layers import set_reentrant_ckpt

    set_reentrant_ckpt(False)
    try:
        model.set_grad_checkpointing(True)  # type: ignore[operator]
    except (AssertionError, NotImplementedError):  # timm models that cannot say so this way
        raise ConfigError(
            f"model.gradient_checkpointing is not supported for {spec} backbones", "remove it"
        ) from None
    keep_batchnorm_stats_in_recompute(model)


def keep_batchnorm_stats_in_recompute(model: nn.Module) -> None:
    """Checkpointing runs a stage's forward again in the backward pass, where a BatchNorm layer
    in training mode would update its running statistics a second time (the momentum applied
    twice per step). The recomputation runs inside the autograd engine, which tells it apart;
    the statistics it changes are put back, so they match a run without checkpointing."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            module.register_forward_pre_hook(_stash_stats)
            module.register_forward_hook(_restore_stats)


def _recomputing(module: nn.Module) -> bool:
    return module.training and torch._C._current_graph_task_id() != -1


def _stash_stats(module: nn.Module, args: object) -> None:
    # a stash left by a recomputation that stopped early (torch stops it once it has what the
    # backward pass needs) is stale: dropped, never restored into a later step
    module.__dict__.pop("_stats_before_recompute", None)
    if _recomputing(module):
        module.__dict__["_stats_before_recompute"] = [b.clone() for b in _stats(module)]


def _restore_stats(module: nn.Module, args: object, output: object) -> None:
    saved = module.__dict__.pop("_stats_before_recompute", None)
    if saved is not None:
        with torch.no_grad():
            for buf, old in zip(_stats(module), saved, strict=True):
                buf.copy_(old)


def _stats(module: nn.Module) -> list[torch.Tensor]:
    names = ("running_mean", "running_var", "num_batches_tracked")
    return [b for n in names if isinstance(b := getattr(module, n, None), torch.Tensor)]
