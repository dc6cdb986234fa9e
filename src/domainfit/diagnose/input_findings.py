"""``input_mismatch``: inputs unlike what the backbone was pretrained on.

Text: the share of texts cut at ``model.max_length`` (the model never reads their ends; with
``model.truncation: head_tail`` their middles, graded a level lower) and the share of unknown
tokens (words the vocabulary cannot spell). Fixes state the share each suggested setting still
cuts, measured on the same texts, up to the backbone's position limit. Images: the per-channel
mean and spread after the ImageNet normalisation every torchvision/timm/HF vision backbone here
expects; data like the pretraining data lands near mean 0, spread 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from domainfit.config import ModelConfig
from domainfit.data.dataset import DomainDataset
from domainfit.diagnose.advice import Suggestion, advise, equals
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
    limit = position_limit(tokenizer)
    evidence = {
        "truncated_share": round(truncated, 4),
        "median_tokens": int(np.median(lengths)) if len(lengths) else 0,
        "p90_tokens": int(np.percentile(lengths, 90)) if len(lengths) else 0,
        "max_length": cfg.max_length,
        "truncation": cfg.truncation,
        "position_limit": limit,
        "unknown_token_share": round(unknown, 4),
        "texts_checked": len(texts),
    }
    out = []
    sev_t = grade(truncated, medium=0.25, high=0.6, low=0.1)
    if sev_t is not None and cfg.truncation == "head_tail":
        # the cut texts lose their middle and keep both ends, where reviews tend to state
        # their verdict (head+tail was best in Sun et al. 2019): less serious than a lost end
        sev_t = _LOWER[sev_t]
    if sev_t is not None:
        head_tail = cfg.truncation == "head_tail"
        kept = " (their middle: model.truncation is head_tail)" if head_tail else ""
        out.append(
            Finding(
                "input_mismatch",
                sev_t,
                f"{truncated:.0%} of {ds.domain}'s texts are cut at {cfg.max_length} tokens{kept}",
                {
                    **evidence,
                    # which texts: diagnose's causes step asks whether label-noise suspects are
                    # cut more often than texts in general, then drops these two lists
                    "_checked_ids": [str(i) for i in list(ds.ids)[:MAX_TEXTS]],
                    "_truncated_ids": [
                        str(ds.ids[i]) for i in np.flatnonzero(lengths > cfg.max_length)
                    ],
                },
                _truncation_fix(lengths, cfg, limit),
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


_LOWER: dict[Severity, Severity | None] = {"high": "medium", "medium": "low", "low": None}


def position_limit(tokenizer: Any) -> int:
    """The longest input the backbone reads: the tokenizer's ``model_max_length`` when it names
    one (Hugging Face puts a huge placeholder there when it does not), else BERT's 512."""
    value = getattr(tokenizer, "model_max_length", None)
    if isinstance(value, int) and 8 <= value <= 100_000:
        return value
    return 512


def _truncation_fix(lengths: np.ndarray, cfg: ModelConfig, limit: int) -> str:
    """What reads more of the texts, with the share each setting still cuts measured on
    ``lengths`` (never a coverage the lengths contradict)."""
    longer = min(limit, int(np.percentile(lengths, 90)))
    options: list[Suggestion] = []
    reach = cfg.max_length
    if longer > cfg.max_length:
        reach = longer
        cut = float((lengths > longer).mean())
        options.append(
            Suggestion(
                f"model.max_length: {longer} (the backbone's limit; {cut:.0%} of texts still cut)"
                if longer == limit
                else f"model.max_length: {longer} (covers {1 - cut:.0%} of the texts; costs "
                "time linearly)"
            )
        )
    else:
        cut = float((lengths > cfg.max_length).mean())
    if cut > 0:
        options.append(
            Suggestion(
                f"model.truncation: head_tail for the {cut:.0%} longer than {reach} tokens "
                "(keeps a quarter of the budget from the start and the rest from the end: "
                "best on long reviews in Sun et al. 2019)",
                "model.truncation",
                equals("head_tail"),
            )
        )
    settings = {"model": cfg.model_dump()}
    fix = advise(settings, options, "")
    if longer > cfg.max_length:
        return fix
    # at the backbone's positions already: a longer limit is no fix
    at_limit = f", all a {limit}-position backbone reads" if cfg.max_length >= limit else ""
    rest = (
        "shorten the texts to the part that carries the label, or pick a long-context backbone "
        "(domainfit does not split long texts into chunks)"
    )
    return f"model.max_length is already {cfg.max_length}{at_limit}: " + "; ".join(
        part for part in (fix, rest) if part
    )


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
