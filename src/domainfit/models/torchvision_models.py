"""torchvision backbones, the classifier replaced by an identity.

``torchvision:NAME`` or ``torchvision:NAME@WEIGHTS`` (a member of the model's weights enum, e.g.
``resnet50@IMAGENET1K_V2``; default ``DEFAULT``). Weights come from ``model.weights``, else, when
downloads are allowed, through torchvision, which keeps them in
``$TORCH_HOME/hub/checkpoints/`` and reads them from there without the network next time.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import LOADERS, Backbone, PooledEncoder
from domainfit.models.specs import BackboneSpec
from domainfit.models.weights import load_into


def split_target(target: str) -> tuple[str, str | None]:
    name, _, tag = target.partition("@")
    return name, tag or None


def weights_enum(name: str, tag: str, *, strict: bool = True) -> Any:
    """The weights enum member ``tag`` of model ``name``; None (or, ``strict``, an error) when
    the model has none."""
    from torchvision.models import get_model_weights

    try:
        members = get_model_weights(name)
    except (ValueError, KeyError):
        if not strict:
            return None
        raise ConfigError(
            f"torchvision has no pretrained weights for '{name}'",
            "drop @WEIGHTS and model.allow_download, or set model.weights to a file",
        ) from None
    try:
        return members[tag]
    except KeyError:
        if not strict:
            return None
        known = ", ".join(["DEFAULT", *(m.name for m in members)])
        raise ConfigError(
            f"torchvision's {name} has no weights '{tag}'", f"known: {known}"
        ) from None


def build_torchvision(name: str, weights: Any = None, **kwargs: object) -> tuple[nn.Module, int]:
    """The model with its last classifier layer removed, and the width of what it returns."""
    from torchvision.models import get_model, list_models

    if name not in list_models():
        raise ConfigError(
            f"torchvision has no model '{name}'",
            f"known: {', '.join(m for m in list_models() if m[:3] == name[:3])}",
        )
    try:
        model = get_model(name, weights=weights, **kwargs)
    except (OSError, RuntimeError) as err:  # URLError is an OSError; a truncated cache file
        from domainfit.models.timm_models import first_line

        raise ConfigError(
            f"cannot get torchvision's {weights} weights: {first_line(err)}",
            "run once with network access (they are kept in $TORCH_HOME/hub/checkpoints), "
            "or download the file yourself and set model.weights",
        ) from None
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
    name, tag = split_target(spec.target)
    source = None
    if cfg.weights:
        model, width = build_torchvision(name)
        load_into(model, cfg.weights)
        source = f"file {cfg.weights}"
    elif cfg.allow_download and cfg.pretrained:
        weights = weights_enum(name, tag or "DEFAULT")
        model, width = build_torchvision(name, weights)
        source = f"torchvision {weights} ({weights.url.rsplit('/', 1)[-1]})"
    else:
        if tag is not None:
            weights_enum(name, tag)  # a misspelt tag is an error even without downloads
        model, width = build_torchvision(name)
    family = torchvision_family(name)
    return Backbone(PooledEncoder(model), model, family, "image", width, spec, source)
