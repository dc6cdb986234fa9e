"""Is the label noise real, or the truncation's? Read the texts longer and count again.

When most texts are cut, comparing the suspects' cut share with all texts' (``causes``) cannot
tell: nearly everything is cut. The direct test is to re-embed the same source rows with a
longer ``model.max_length`` (the 90th percentile of their lengths, capped at the backbone's
position limit) and recount the labels the features confidently contradict. If the count
falls by a third or more, the contradiction was largely the truncation's: the labels were
fine, the model never read the part that carries them.

Measured on 800 Amazon kitchen reviews with MiniLM cut at 32 tokens: see the note of issue 26.
It costs one more embedding pass of the source rows, so it runs only when both findings are
there, truncation at medium or worse.
"""

from __future__ import annotations

from typing import Any

from domainfit.config import RunConfig
from domainfit.data.pipeline import PreparedData
from domainfit.diagnose.findings import Finding
from domainfit.models.backbone import Backbone

FALLS_BY = 1 / 3  # the share the count must drop by for the noise to be called a symptom


def noise_at_longer_inputs(
    cfg: RunConfig, prepared: PreparedData, seed: int, bb: Backbone, found: list[Finding]
) -> None:
    """Adds ``_noise_longer`` to the label-noise finding's evidence (``causes`` reads it)."""
    from domainfit.diagnose.feature_findings import confident_disagreements, out_of_fold_probs

    src = prepared.clean["source"]
    noise = next((f for f in found if f.code == "label_noise" and f.domain == src.domain), None)
    cut = next(
        (
            f
            for f in found
            if f.code == "input_mismatch"
            and f.domain == src.domain
            and "_truncated_ids" in f.evidence
            and f.severity in ("high", "medium")
        ),
        None,
    )
    if noise is None or cut is None or noise.evidence.get("estimated_noise_rate") is None:
        return
    assert cfg.model is not None
    longer = min(int(cut.evidence["position_limit"]), int(cut.evidence["p90_tokens"]))
    if longer <= cfg.model.max_length:
        return
    from domainfit.diagnose.role_features import role_features, source_classes

    model = cfg.model.model_copy(update={"max_length": longer})
    read = role_features(
        cfg.model_copy(update={"model": model}), src, source_classes(prepared), seed, bb
    )
    keep = read.labelled
    probs = out_of_fold_probs(read.x[keep], read.y[keep], seed)
    rate = len(confident_disagreements(probs, read.y[keep])) / int(keep.sum())
    before = float(noise.evidence["estimated_noise_rate"])
    noise.evidence["_noise_longer"] = {
        "max_length": longer,
        "estimated_noise_rate": round(rate, 4),
        "before": round(before, 4),
        "falls": bool(rate <= before * (1 - FALLS_BY)),
    }


def describe(longer: dict[str, Any]) -> str:
    return (
        f"read to {longer['max_length']} tokens, the features contradict "
        f"{longer['estimated_noise_rate']:.0%} of the labels instead of {longer['before']:.0%}"
    )
