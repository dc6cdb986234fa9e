"""timm backbones: built without a classifier, weights from a local file only."""

from __future__ import annotations

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
