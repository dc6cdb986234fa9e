"""``input_mismatch``: inputs unlike what the backbone was pretrained on.

Text: the share of texts cut at ``model.max_length`` (the model never reads their ends) and the
share of unknown tokens (words the vocabulary cannot spell). Images: the per-channel mean and
spread after the ImageNet normalisation every torchvision/timm/HF vision backbone here expects;
data like the pretraining data lands near mean 0, spread 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from domainfit.config import ModelConfig
from domainfit.data.dataset import DomainDataset
from domainfit.diagnose.findings import Finding, Severity, grade
from domainfit.models.image_convention import IMAGENET_MEAN, IMAGENET_STD

MAX_TEXTS = 2000  # tokenising more adds time, not information


def text_mismatch(ds: DomainDataset, tokenizer: Any, cfg: ModelConfig) -> list[Finding]:
    texts = ["" if t is None else str(t) for t in list(ds.inputs)[:MAX_TEXTS]]
    from transformers.utils import logging as hf_logging

    # measuring untruncated lengths is the point: the "longer than the maximum" warning is not
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        ids = tokenizer(texts, truncation=False, add_special_tokens=True)["input_ids"]
    finally:
        hf_logging.set_verbosity(verbosity)
    lengths = np.array([len(r) for r in ids])
    truncated = float((lengths > cfg.max_length).mean())
    unk = tokenizer.unk_token_id
    tokens = int(lengths.sum())
    unknown = sum(int(np.sum(np.asarray(r) == unk)) for r in ids) / max(1, tokens)
    if unk is None:
        unknown = 0.0
    evidence = {
        "truncated_share": round(truncated, 4),
        "median_tokens": int(np.median(lengths)) if len(lengths) else 0,
        "p90_tokens": int(np.percentile(lengths, 90)) if len(lengths) else 0,
        "max_length": cfg.max_length,
        "unknown_token_share": round(unknown, 4),
        "texts_checked": len(texts),
    }
    out = []
    sev_t = grade(truncated, medium=0.25, high=0.6, low=0.1)
    if sev_t is not None:
        longer = min(512, int(np.percentile(lengths, 90)))
        # at the 512 positions of BERT-sized models already: a longer limit is no fix
        fix = (
            f"model.max_length: {longer} (covers 90% of the texts; costs time linearly)"
            if longer > cfg.max_length
            else f"model.max_length is already {cfg.max_length}, all a 512-position backbone "
            "reads: shorten the texts to the part that carries the label, or pick a "
            "long-context backbone"
        )
        out.append(
            Finding(
                "input_mismatch",
                sev_t,
                f"{truncated:.0%} of {ds.domain}'s texts are cut at {cfg.max_length} tokens",
                evidence,
                fix,
                score=truncated,
                domain=ds.domain,
            )
        )
    sev_u = grade(unknown, medium=0.02, high=0.1, low=0.005)
    if sev_u is not None:
        out.append(
            Finding(
                "input_mismatch",
                sev_u,
                f"{unknown:.1%} of {ds.domain}'s tokens are unknown to the tokenizer",
                evidence,
                "check the text's encoding and language; choose a backbone whose vocabulary "
                "covers the domain (a multilingual or domain-specific model)",
                score=unknown * 10,
                domain=ds.domain,
            )
        )
    return out


def image_mismatch(ds: DomainDataset, raw: np.ndarray) -> list[Finding]:
    """``raw``: (N, 3, H, W) pixels in [0, 1], resized as the backbone reads them."""
    ref_mean = np.asarray(IMAGENET_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
    ref_std = np.asarray(IMAGENET_STD, dtype=np.float32).reshape(1, 3, 1, 1)
    image = (raw - ref_mean) / ref_std
    mean = image.mean(axis=(0, 2, 3))
    std = image.std(axis=(0, 2, 3))
    off_mean = float(np.abs(mean).max())
    off_std = float(np.max(np.abs(np.log(np.maximum(std, 1e-6)))))  # factor away from 1
    sev: Severity | None = None
    if off_mean >= 1.0 or off_std >= np.log(3):
        sev = "medium"
    elif off_mean >= 0.5 or off_std >= np.log(2):
        sev = "low"
    if sev is None:
        return []
    # grey images repeated over three channels are equal before the per-channel normalisation
    gray = bool(np.allclose(raw[:, 0], raw[:, 1], atol=1e-3)) and bool(
        np.allclose(raw[:, 1], raw[:, 2], atol=1e-3)
    )
    return [
        Finding(
            "input_mismatch",
            sev,
            f"{ds.domain}'s images are unlike ImageNet after normalisation (channel means "
            f"{_rounded(mean, 2)}, spreads {_rounded(std, 2)}" + (", grey" if gray else "") + ")",
            {"channel_mean": _rounded(mean, 4), "channel_std": _rounded(std, 4), "grayscale": gray},
            "pretrained filters expect natural colour photographs: train more of the network "
            "(strategy.name: full or layerwise_lr), or pretrain on data like yours",
            score=off_mean + off_std,
            domain=ds.domain,
        )
    ]


def _rounded(values: np.ndarray, digits: int) -> list[float]:
    return [round(float(v), digits) for v in values]
