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

import numpy as np

from domainfit.config import RunConfig
from domainfit.data.pipeline import PreparedData
from domainfit.diagnose.findings import Finding
from domainfit.models.backbone import Backbone

FALLS_BY = 1 / 3  # the share the count must drop by for the noise to be called a symptom


def noise_at_longer_inputs(
    cfg: RunConfig, prepared: PreparedData, seed: int, bb: Backbone, found: list[Finding]
) -> None:
    """Adds ``_noise_longer`` to the label-noise finding's evidence (``causes`` reads it)."""
    from domainfit.diagnose.feature_findings import (
        MAX_ROWS,
        confident_disagreements,
        out_of_fold_probs,
        subsample,
    )

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
    from domainfit.diagnose.diagnose import _class_ids
    from domainfit.embed import embed

    sub = src.subset(subsample(np.arange(len(src)), MAX_ROWS, seed))
    classes = sorted({str(v) for v in src.labels[~src.missing_labels()]})  # type: ignore[index]
    y = _class_ids(sub, classes)
    keep = y >= 0
    model = cfg.model.model_copy(update={"max_length": longer})
    x = embed(sub, model.backbone, model_cfg=model, batch_size=cfg.train.batch_size, loaded=bb)
    x = np.asarray(x, dtype=np.float64)[keep]
    probs = out_of_fold_probs(x, y[keep], seed)
    rate = len(confident_disagreements(probs, y[keep])) / int(keep.sum())
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
