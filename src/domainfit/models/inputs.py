"""Turn a DomainDataset into what a backbone reads: token ids for text, image tensors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from domainfit.config import ModelConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.feature_pipeline import FeaturePipeline
from domainfit.data.loaders import encode_features, encode_text
from domainfit.data.token_cache import TokenCache
from domainfit.errors import ConfigError
from domainfit.models.backbone import Backbone
from domainfit.models.image_convention import ImageConvention, image_convention
from domainfit.progress import track

InputEncoder = Callable[[DomainDataset], dict[str, Any]]


def input_encoder(
    backbone: Backbone,
    cfg: ModelConfig,
    preprocessor: FeaturePipeline | None = None,
    token_cache: Path | None = None,
) -> tuple[InputEncoder, int]:
    """The encoding function and the pad id its batches use. Tables and feature arrays go
    through ``preprocessor`` (fitted on the training split). A split's texts are tokenised once
    (every epoch's batches reuse the ids); with ``token_cache`` (a folder), once across runs."""
    if backbone.modality == "features":
        if preprocessor is None:
            raise ConfigError(
                "a features backbone needs the fitted preprocessing", "train it with fit first"
            )
        return (lambda ds: encode_features(preprocessor.transform(ds))), 0
    if backbone.modality == "text":
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(
            backbone.tokenizer_path, local_files_only=True, use_fast=True
        )
        cache = None if token_cache is None else TokenCache(Path(token_cache), tok)
        return (
            lambda ds: encode_text(_need(ds, "text"), tok, cfg.max_length, cache, cfg.truncation)
        ), int(tok.pad_token_id or 0)
    conv = image_convention(cfg)
    return (lambda ds: image_inputs(ds, conv)), 0


def image_inputs(ds: DomainDataset, conv: ImageConvention) -> dict[str, Any]:
    """Images as tensors; audio (a features set marked ``meta["audio"]``) as waveforms, which
    the encoder turns into spectrogram images in its forward pass."""
    audio = ds.meta.get("audio") if ds.kind == "features" else None
    if audio is None:
        return {"x": image_tensor(ds, conv)}
    waves = np.asarray(ds.inputs, dtype=np.float32)
    meta = np.tile(np.array([[int(audio["sample_rate"]), conv.size]], dtype=np.int64), (len(ds), 1))
    return {"wave": waves, "audio_meta": meta}


def _need(ds: DomainDataset, kind: str) -> DomainDataset:
    if ds.kind != kind:
        raise ConfigError(
            f"the backbone reads {kind} but {ds.domain} holds {ds.kind} data",
            "choose a backbone for this kind of data",
        )
    return ds


def image_tensor(ds: DomainDataset, conv: ImageConvention) -> np.ndarray:
    """(N, 3, size, size) float32 as the backbone reads it: pixels scaled to [0, 1], resized
    and centre-cropped, then normalised, all by the backbone's convention.

    Image files are decoded as RGB; feature rows with ``meta["image_shape"]`` (digit sets) are
    reshaped, scaled by the set's own value range, resized whole (a digit has no border to
    spare) and repeated over three channels.
    """
    return normalise(pixels(ds, conv), conv)


def normalise(x: np.ndarray, conv: ImageConvention) -> np.ndarray:
    mean = np.asarray(conv.mean, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(conv.std, dtype=np.float32).reshape(1, 3, 1, 1)
    return ((x - mean) / std).astype(np.float32)


def pixels(ds: DomainDataset, conv: ImageConvention) -> np.ndarray:
    """(N, 3, size, size) float32 in [0, 1], before normalisation."""
    size = conv.size
    if ds.kind == "image":
        out = np.empty((len(ds), 3, size, size), dtype=np.float32)
        for i, path in enumerate(track(ds.inputs, f"reading {ds.domain}'s images", unit="image")):
            out[i] = read_image(path, conv)
        return out
    if ds.kind == "features" and "image_shape" in ds.meta:
        h, w = ds.meta["image_shape"]
        raw = np.asarray(ds.inputs, dtype=np.float32).reshape(-1, 1, h, w)
        lo, hi = float(raw.min()), float(raw.max())
        raw = (raw - lo) / (hi - lo if hi > lo else 1.0)
        return (
            F.interpolate(
                torch.from_numpy(raw), size=(size, size), mode="bilinear", align_corners=False
            )
            .numpy()
            .repeat(3, axis=1)
        )
    raise ConfigError(
        f"{ds.domain} holds {ds.kind} data, which an image backbone cannot read",
        "use image files or digit feature sets with an image shape",
    )


def read_image(path: str, conv: ImageConvention) -> np.ndarray:
    """One file as (3, size, size) in [0, 1]: the shorter side resized to ``size / crop_pct``,
    then the centre square cut (``crop_pct`` 1: the whole image squeezed to the square)."""
    from PIL import Image

    resample = (
        Image.Resampling.BICUBIC if conv.interpolation == "bicubic" else Image.Resampling.BILINEAR
    )
    with Image.open(path) as im:
        im = im.convert("RGB")
        if conv.crop_pct >= 1.0:
            im = im.resize((conv.size, conv.size), resample)
        else:
            short = conv.resize_to()
            w, h = im.size
            scale = short / min(w, h)
            im = im.resize((max(short, round(w * scale)), max(short, round(h * scale))), resample)
            w, h = im.size
            left, top = (w - conv.size) // 2, (h - conv.size) // 2
            im = im.crop((left, top, left + conv.size, top + conv.size))
        arr = np.asarray(im, dtype=np.float32) / 255.0
    return arr.transpose(2, 0, 1)
