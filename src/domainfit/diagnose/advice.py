"""Fix texts that know the config: a finding never suggests a setting the run already has.

A suggestion carries the setting it applies and a test of whether the config has it already;
:func:`advise` keeps the ones still open. Configs come as plain dicts (a run folder's
``config.yaml``, or ``RunConfig.model_dump()``); a setting missing from an older run's file
counts as not applied, so it is still suggested.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_MISSING = object()


def setting(cfg: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``train.lr``); None when any part is missing."""
    node: Any = cfg
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def as_dict(cfg: Any) -> dict[str, Any]:
    """A RunConfig (or anything with ``model_dump``) or a mapping, as a plain dict."""
    if hasattr(cfg, "model_dump"):
        return dict(cfg.model_dump())
    return dict(cfg or {})


@dataclass(frozen=True)
class Suggestion:
    text: str
    path: str | None = None  # the setting the suggestion changes
    done: Callable[[Any], bool] | None = None  # the value already meets it

    def applied(self, cfg: Mapping[str, Any]) -> bool:
        if self.path is None or self.done is None:
            return False
        value = setting(cfg, self.path)
        return value is not None and bool(self.done(value))


def advise(cfg: Mapping[str, Any], suggestions: Sequence[Suggestion], fallback: str) -> str:
    """The suggestions the config has not applied yet, joined; ``fallback`` when it has them
    all (it should say what else to look at, not repeat them)."""
    open_ = [s.text for s in suggestions if not s.applied(cfg)]
    return "; ".join(open_) if open_ else fallback


def built_from_data(cfg: Mapping[str, Any]) -> bool:
    """The model is a network built from the data (``model.backbone: mlp``): nothing is
    pretrained, and the features the checks read are the preprocessed inputs, so advice about
    a backbone's layers or its pretrained features does not apply."""
    backbone = setting(cfg, "model.backbone")
    return isinstance(backbone, str) and backbone.strip().lower().partition(":")[0] == "mlp"


def features_read(cfg: Mapping[str, Any]) -> str:
    """What the feature checks looked at, as a finding names it."""
    if built_from_data(cfg):
        return "the input features (after preprocessing)"
    return "the backbone's features"


def equals(want: Any) -> Callable[[Any], bool]:
    return lambda value: value == want


def one_of(*wanted: Any) -> Callable[[Any], bool]:
    return lambda value: value in wanted
