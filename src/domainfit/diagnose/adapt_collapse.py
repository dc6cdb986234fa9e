"""When adaptation is what stops the classifier learning, say so instead of blaming the lr.

A domain loss (MMD, CORAL, DANN's adversary) pulls source and target features together; with
too much weight it wins outright: the features collapse to what both domains share, the task
loss stays at chance and the domain loss falls. Seen on MiniLM, kitchen -> books sentences:
``adapt.method: mmd`` at weight 1 ended at training loss 0.693 (chance) and 51.6 % target
accuracy, where the same run without adaptation reached 0.483 and 61.3 %. The plain findings
then read "underfitting: more epochs or a higher lr", "lr_too_low: 10x higher" and, for the
domain gap, "raise adapt.weight": each the wrong way round.

So, in an adapting run whose training loss underfits while its domain loss trains: the
underfitting finding names the domain loss and the fix is a lower weight or a ramp;
``lr_too_low`` is dropped (the lr moves the domain loss fine); ``domain_gap`` stops advising
a higher weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from domainfit.diagnose.findings import Finding

DOMAIN_KEYS = ("train.domain_loss", "train.adapt_loss")


def _adapting(cfg: Mapping[str, Any]) -> tuple[str, float] | None:
    adapt = cfg.get("adapt")
    if not isinstance(adapt, Mapping):
        return None
    method = adapt.get("method")
    if not method or method == "none":
        return None
    return str(method), float(adapt.get("weight", 1.0))


def _domain_curve(history: list[dict[str, Any]]) -> list[float]:
    for key in DOMAIN_KEYS:
        values = [float(r[key]) for r in history if key in r]
        if values:
            return values
    return []


def explain_collapse(
    findings: list[Finding], cfg: Mapping[str, Any], history: list[dict[str, Any]]
) -> list[Finding]:
    """``findings`` with the adaptation named as the cause when it is one (see module doc)."""
    adapting = _adapting(cfg)
    under = next((f for f in findings if f.code == "underfitting"), None)
    domain = _domain_curve(history)
    if adapting is None or under is None or not domain:
        return findings
    method, weight = adapting
    adapt = cfg.get("adapt") or {}
    ramp = "" if adapt.get("schedule") == "dann" else " or adapt.schedule: dann (ramps it in)"
    explained = replace(
        under,
        title=f"{under.title}, while the domain loss of adapt.method: {method} trains "
        f"({domain[0]:.3f} -> {domain[-1]:.3f}): the alignment outweighs the task",
        evidence={**under.evidence, "domain_loss": [round(v, 4) for v in domain]},
        fix=f"adapt.weight: {weight / 10:g} (now {weight:g}){ramp}; keep "
        "baselines: [source_only] to see what adaptation adds",
    )
    out = []
    for f in findings:
        if f is under:
            out.append(explained)
        elif f.code == "lr_too_low":
            continue  # the lr moves the domain loss; the task loss is held by the alignment
        elif f.code == "domain_gap" and "raise adapt.weight" in f.fix:
            kept = [p for p in f.fix.split("; ") if "raise adapt.weight" not in p]
            out.append(replace(f, fix="; ".join(kept)))
        else:
            out.append(f)
    return out
