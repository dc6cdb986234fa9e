"""timm backbones: built without a classifier, weights from a local file or timm's hub."""

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


def build_timm(name: str, *, pretrained: bool = False, **kwargs: object) -> nn.Module:
    """Without a classifier unless ``num_classes`` says otherwise; ``pretrained``: timm fetches
    the weights its ``pretrained_cfg`` names (Hugging Face hub or URL, both cached locally)."""
    import timm

    kwargs.setdefault("num_classes", 0)
    try:
        return timm.create_model(name, pretrained=pretrained, **kwargs)
    except RuntimeError as err:  # "Unknown model", "Invalid pretrained tag", "No pretrained..."
        if "pretrained" in str(err).lower() and timm.is_model(name.split(".")[0]):
            tags = timm.list_pretrained(f"{name.split('.')[0]}.*")[:6]
            raise ConfigError(
                f"timm has no pretrained weights for '{name}' ({err})",
                f"choose one that has: {', '.join(tags) or 'none for this architecture'}",
            ) from None
        close = timm.list_models(f"*{name.split('_')[0]}*")[:5]
        raise ConfigError(
            f"timm has no model '{name}' ({err})", f"similar names: {', '.join(close) or 'none'}"
        ) from None
    except OSError as err:  # not in the cache, and the hub or URL cannot be reached
        raise ConfigError(
            f"cannot get timm's pretrained weights for '{name}': {first_line(err)}",
            "run once with network access (timm keeps them in the Hugging Face cache, "
            "HF_HUB_CACHE), or download the file yourself and set model.weights",
        ) from None


def first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


def timm_family(name: str) -> str:
    return next((fam for key, fam in _FAMILIES if name.startswith(key)), "generic")


@LOADERS.register("timm")
def load_timm(spec: BackboneSpec, cfg: ModelConfig) -> Backbone:
    """Weights from ``model.weights``, else from timm's hub when downloads are allowed, else
    random (which the run then says, since transfer from random weights is no transfer)."""
    source = None
    if cfg.weights:
        model = build_timm(spec.target)
        load_into(model, cfg.weights)
        source = f"file {cfg.weights}"
    elif cfg.allow_download and cfg.pretrained:
        model = build_timm(spec.target, pretrained=True)
        pc = getattr(model, "pretrained_cfg", {}) or {}
        where = pc.get("hf_hub_id") or pc.get("url") or pc.get("file") or "its pretrained_cfg"
        source = f"timm pretrained weights ({where})"
    else:
        model = build_timm(spec.target)
    width = int(model.num_features)  # type: ignore[arg-type]
    family = timm_family(spec.target)
    return Backbone(PooledEncoder(model), model, family, "image", width, spec, source)


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
