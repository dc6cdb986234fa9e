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

# ImageNet statistics: what torchvision/timm backbones are usually pretrained with.
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)

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
        return (lambda ds: encode_text(_need(ds, "text"), tok, cfg.max_length, cache)), int(
            tok.pad_token_id or 0
        )
    return (lambda ds: image_inputs(ds, cfg.image_size)), 0


def image_inputs(ds: DomainDataset, size: int) -> dict[str, Any]:
    """Images as tensors; audio (a features set marked ``meta["audio"]``) as waveforms, which
    the encoder turns into spectrogram images in its forward pass."""
    audio = ds.meta.get("audio") if ds.kind == "features" else None
    if audio is None:
        return {"x": image_tensor(ds, size)}
    waves = np.asarray(ds.inputs, dtype=np.float32)
    meta = np.tile(np.array([[int(audio["sample_rate"]), size]], dtype=np.int64), (len(ds), 1))
    return {"wave": waves, "audio_meta": meta}


def _need(ds: DomainDataset, kind: str) -> DomainDataset:
    if ds.kind != kind:
        raise ConfigError(
            f"the backbone reads {kind} but {ds.domain} holds {ds.kind} data",
            "choose a backbone for this kind of data",
        )
    return ds


def image_tensor(ds: DomainDataset, size: int) -> np.ndarray:
    """(N, 3, size, size) float32, scaled to [0, 1] then normalised with ImageNet statistics.

    Image files are decoded as RGB; feature rows with ``meta["image_shape"]`` (digit sets) are
    reshaped, scaled by the set's own value range, and repeated over three channels.
    """
    if ds.kind == "image":
        from PIL import Image

        arrays = []
        for path in ds.inputs:
            with Image.open(path) as im:
                im = im.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
                arrays.append(np.asarray(im, dtype=np.float32) / 255.0)
        x = np.stack(arrays).transpose(0, 3, 1, 2)
    elif ds.kind == "features" and "image_shape" in ds.meta:
        h, w = ds.meta["image_shape"]
        raw = np.asarray(ds.inputs, dtype=np.float32).reshape(-1, 1, h, w)
        lo, hi = float(raw.min()), float(raw.max())
        raw = (raw - lo) / (hi - lo if hi > lo else 1.0)
        x = (
            F.interpolate(
                torch.from_numpy(raw), size=(size, size), mode="bilinear", align_corners=False
            )
            .numpy()
            .repeat(3, axis=1)
        )
    else:
        raise ConfigError(
            f"{ds.domain} holds {ds.kind} data, which an image backbone cannot read",
            "use image files or digit feature sets with an image shape",
        )
    return ((x - IMAGENET_MEAN) / IMAGENET_STD).astype(np.float32)
