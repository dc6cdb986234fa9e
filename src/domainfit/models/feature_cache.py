"""Backbone features computed once and kept on disk (``linear_probe``).

A fixed backbone maps the same inputs to the same features, so they are worth computing once.
Each split is one safetensors file named by a key over everything the features depend on:

- the model: backbone spec, encoder class, and a hash of the whole state dict (buffers too:
  BatchNorm statistics change features; a file's mtime would miss in-place edits and re-saves);
- the data: the split's sample ids and its encoded inputs (token ids or image arrays, which
  already reflect the tokenizer, ``max_length``, ``truncation`` and ``image_size``);
- the input settings that act inside the encoder (``pooling``) or before it.

Labels are not cached: they come from the current run, so a relabelled set reuses its features.
Files are written under a temporary name and renamed, so a killed run leaves no half file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from domainfit.config import ModelConfig
from domainfit.data.loaders import Batches, EncodedSet

FORMAT = "1"  # bump when what a cached file holds, or how it is computed, changes


def _hasher() -> hashlib.blake2b:
    return hashlib.blake2b(digest_size=16)


def model_fingerprint(encoder: nn.Module, spec: str) -> str:
    h = _hasher()
    h.update(f"{FORMAT}|{spec}|{type(encoder).__module__}.{type(encoder).__qualname__}".encode())
    for name, tensor in encoder.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"|{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy())  # raw bytes: bf16 included
    return h.hexdigest()


def data_fingerprint(ids: list[str], data: EncodedSet) -> str:
    h = _hasher()
    h.update(json.dumps(ids).encode())
    for key in sorted(data.inputs):
        value = data.inputs[key]
        h.update(f"|{key}|".encode())
        if sp.issparse(value):
            csr = value.tocsr()
            for part in (csr.data, csr.indices, csr.indptr, np.asarray(csr.shape)):
                h.update(np.ascontiguousarray(part))
        elif isinstance(value, np.ndarray):
            h.update(f"{value.dtype}|{value.shape}".encode())
            h.update(np.ascontiguousarray(value))
        else:  # token id lists of varying length: lengths plus the flat ids
            rows = [np.asarray(r, dtype=np.int64) for r in value]
            h.update(np.asarray([len(r) for r in rows], dtype=np.int64))
            h.update(np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64))
    return h.hexdigest()


def settings_of(cfg: ModelConfig) -> dict[str, object]:
    return {"pooling": cfg.pooling, "max_length": cfg.max_length, "image_size": cfg.image_size}


def cache_key(model_fp: str, settings: dict[str, object], data_fp: str) -> str:
    h = _hasher()
    h.update(json.dumps([FORMAT, model_fp, settings, data_fp], sort_keys=True).encode())
    return h.hexdigest()


def cached_feature_sets(
    encoder: nn.Module,
    spec: str,
    cfg: ModelConfig,
    sets: dict[str, EncodedSet],
    ids: dict[str, list[str]],
    cache_dir: Path,
    batch_size: int,
) -> dict[str, EncodedSet]:
    """Each set as an EncodedSet of pooled features ``{"x": (N, D)}`` with its own labels,
    read from ``cache_dir`` when present, else computed (encoder in eval mode) and stored."""
    model_fp = model_fingerprint(encoder, spec)
    settings = settings_of(cfg)
    out = {}
    for name, data in sets.items():
        key = cache_key(model_fp, settings, data_fingerprint(ids[name], data))
        path = cache_dir / f"{key}.safetensors"
        feats = _read(path, len(data))
        if feats is None:
            feats = compute_features(encoder, data, batch_size, f"backbone features {name}")
            meta = {"backbone": spec, "split": name, "rows": str(len(data)), "format": FORMAT}
            _write_atomic(path, feats, {**meta, "settings": json.dumps(settings)})
        out[name] = EncodedSet({"x": feats.numpy()}, data.labels)
    return out


@torch.no_grad()
def compute_features(
    encoder: nn.Module, data: EncodedSet, batch_size: int, label: str = "backbone features"
) -> torch.Tensor:
    """(N, D) float32 features in the data's order; on the GPU when there is one."""
    from domainfit.progress import track_batches

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    was_training, home = encoder.training, next(encoder.parameters(), torch.empty(0)).device
    encoder.eval().to(device)
    # Texts go shortest first: a batch pads to its longest row, so similar lengths together
    # cut the padded work several-fold on review-length text. Rows return in the data's order.
    order = _length_order(data)
    try:
        batches = Batches(data, batch_size, shuffle=False)
        batches.order = order
        chunks = [
            encoder({k: v.to(device) for k, v in b.items()}).float().cpu()
            for b in track_batches(batches, label)
        ]
    finally:
        encoder.train(was_training).to(home)
    feats = torch.cat(chunks)
    out = torch.empty_like(feats)
    out[torch.as_tensor(order)] = feats
    return out


def _length_order(data: EncodedSet) -> np.ndarray:
    ids = data.inputs.get("input_ids")
    if ids is None:
        return np.arange(len(data))
    return np.argsort([len(r) for r in ids], kind="stable")


def _read(path: Path, rows: int) -> torch.Tensor | None:
    if not path.is_file():
        return None
    try:
        feats = load_file(str(path))["features"]
    except (SafetensorError, OSError, KeyError):
        return None  # unreadable: computed again and replaced
    return feats if feats.shape[0] == rows else None


def _write_atomic(path: Path, feats: torch.Tensor, meta: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file({"features": feats.contiguous()}, tmp, metadata=meta)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
