"""torchvision backbones: built without weights, the classifier replaced by an identity."""

from __future__ import annotations

from torch import nn

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import LOADERS, Backbone, PooledEncoder
from domainfit.models.specs import BackboneSpec
from domainfit.models.weights import load_into


def build_torchvision(name: str, **kwargs: object) -> tuple[nn.Module, int]:
    """The model with its last classifier layer removed, and the width of what it returns."""
    from torchvision.models import get_model, list_models

    if name not in list_models():
        raise ConfigError(
            f"torchvision has no model '{name}'",
            f"known: {', '.join(m for m in list_models() if m[:3] == name[:3])}",
        )
    model = get_model(name, weights=None, **kwargs)
    width = _strip_classifier(model)
    return model, width


def _strip_classifier(model: nn.Module) -> int:
    fc = getattr(model, "fc", None)
    if isinstance(fc, nn.Linear):
        model.fc = nn.Identity()
        return fc.in_features
    head = getattr(model, "classifier", None) or getattr(model, "heads", None)
    if isinstance(head, nn.Sequential):
        for i in range(len(head) - 1, -1, -1):
            if isinstance(head[i], nn.Linear):
                width = head[i].in_features
                head[i] = nn.Identity()
                return width
    if isinstance(head, nn.Linear):
        name = "classifier" if getattr(model, "classifier", None) is head else "heads"
        setattr(model, name, nn.Identity())
        return head.in_features
    raise ConfigError(
        f"cannot find the classifier of {type(model).__name__} to remove",
        "use a python:<module>:<callable> backbone that returns features",
    )


def torchvision_family(name: str) -> str:
    return (
        "torchvision_resnet" if name.startswith(("resnet", "resnext", "wide_resnet")) else "generic"
    )


@LOADERS.register("torchvision")
def load_torchvision(spec: BackboneSpec, cfg: ModelConfig) -> Backbone:
    model, width = build_torchvision(spec.target)
    if cfg.weights:
        load_into(model, cfg.weights)
    family = torchvision_family(spec.target)
    return Backbone(PooledEncoder(model), model, family, "image", width, spec)
