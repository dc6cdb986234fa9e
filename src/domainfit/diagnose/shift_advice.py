"""Fix texts of the two target findings (``label_shift``, ``domain_gap``) that know the config:
what the run already adapts with, whether it keeps the source-only baseline, how many target
labels it uses. Suggestions already in place are left out (see :mod:`advice`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domainfit.diagnose.advice import (
    Suggestion,
    advise,
    built_from_data,
    features_read,
    one_of,
    setting,
)

CLASS_AWARE = ("cdan",)  # align features per class: priors that differ do not mislead them


def _target_labels(cfg: Mapping[str, Any], phrase: str) -> Suggestion:
    have = setting(cfg, "data.target_labels") or 0
    if have:
        return Suggestion(f"more labelled target samples (data.target_labels is {have:g})")
    return Suggestion(f"{phrase} (data.target_labels: 50)")


def label_shift_fix(cfg: Mapping[str, Any]) -> str:
    self_training = bool(setting(cfg, "adapt.self_training.enabled"))
    return advise(
        cfg,
        [
            Suggestion("report balanced_accuracy"),
            Suggestion(
                "prefer adapt.self_training (class-balanced) or adapt.method: cdan over "
                "dann/coral/mmd, which align marginal features and hurt when the class mix "
                "differs (Zhao et al. 2019)",
                "adapt.method",
                lambda v: v in CLASS_AWARE or self_training,
            ),
            _target_labels(cfg, "add labelled target samples if you can"),
        ],
        "",
    )


def domain_gap_fix(cfg: Mapping[str, Any], adapting: str | None) -> str:
    """A network built from the data (``mlp``) has no pretrained layers to unfreeze: it gets
    adaptation, classic alignment of its input features, and target labels."""
    scratch = built_from_data(cfg)
    if adapting:
        kept = "source_only" in (setting(cfg, "baselines") or [])
        check = (
            "its source_only baseline shows whether that closes it"
            if kept
            else "keep baselines: [source_only] to see whether that closes it"
        )
        where = features_read(cfg) if scratch else "the starting backbone"
        return f"measured on {where}; the run adapts ({adapting}): " + advise(
            cfg,
            [
                Suggestion(check),
                Suggestion("if not, raise adapt.weight"),
                Suggestion("try adapt.method: cdan", "adapt.method", one_of(*CLASS_AWARE)),
                _target_labels(cfg, "a few target labels help most"),
            ],
            "",
        )
    adapt = Suggestion(
        "adapt.method: dann (or coral / mmd) with data.target as the unlabelled pool"
    )
    labels = _target_labels(cfg, "a few labelled target samples help most")
    if scratch:
        align = Suggestion(
            "for feature arrays, classic alignment without training: domainfit align CONFIG "
            "--method coral (or tca, jda)"
        )
        return advise(cfg, [adapt, align, labels], "")
    deeper = Suggestion(
        "train deeper layers (strategy.name: full or layerwise_lr, not linear_probe)",
        "strategy.name",
        one_of("full", "layerwise_lr", "gradual_unfreeze"),
    )
    return advise(cfg, [adapt, deeper, labels], "")
