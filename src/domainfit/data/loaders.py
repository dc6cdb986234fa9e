"""Batches for training: tokenised text with dynamic padding, feature rows, images.

Shuffling is a pure function of (seed, epoch), so a resumed run can skip exactly the batches
it had already consumed (``start_batch``) and see the rest in the same order, and the processes
of a data-parallel run agree on every batch: each takes its stripe (``rank``, ``world``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from domainfit.data.dataset import DomainDataset
from domainfit.errors import DataError


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


class Batches:
    """An epoch's batches over pre-encoded samples; ``len`` is the number of batches.

    With ``world`` > 1 each batch is this process's rows ``rank::world`` of the global batch
    (possibly none, for a last batch smaller than ``world``)."""

    def __init__(
        self,
        encoded: EncodedSet,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int = 0,
        epoch: int = 0,
        start_batch: int = 0,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        self.encoded = encoded
        self.batch_size = batch_size
        self.order = epoch_order(len(encoded), seed, epoch, shuffle)
        self.start_batch = start_batch
        self.rank, self.world = rank, world

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        for b in range(self.start_batch, len(self)):
            yield self.encoded.batch(self.global_rows(b)[self.rank :: self.world])

    def global_rows(self, b: int) -> np.ndarray:
        """The samples of the ``b``-th batch, over all processes."""
        return self.order[b * self.batch_size : (b + 1) * self.batch_size]


class EncodedSet:
    """Inputs turned into model-ready arrays once (tokenisation is not repeated per epoch)."""

    def __init__(self, inputs: dict[str, Any], labels: np.ndarray | None, pad_id: int = 0) -> None:
        self.inputs = inputs
        self.labels = labels
        self.pad_id = pad_id
        first = next(iter(inputs.values()))  # every key has one row per sample
        self.n = first.shape[0] if hasattr(first, "shape") else len(first)

    def __len__(self) -> int:
        return self.n

    def batch(self, idx: np.ndarray) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        if "input_ids" in self.inputs:
            out.update(self._pad([self.inputs["input_ids"][i] for i in idx]))
        if "x" in self.inputs:
            x = self.inputs["x"][idx]
            x = x.toarray() if sp.issparse(x) else x
            out["x"] = torch.as_tensor(np.asarray(x, dtype=np.float32))
        for key in ("wave", "audio_meta"):  # audio: waveforms, turned into images by the model
            if key in self.inputs:
                out[key] = torch.as_tensor(np.asarray(self.inputs[key][idx]))
        if self.labels is not None:
            out["labels"] = torch.as_tensor(self.labels[idx])
        return out

    def _pad(self, rows: list[list[int]]) -> dict[str, torch.Tensor]:
        """Pad to the longest row of this batch, not to a global maximum."""
        width = max((len(r) for r in rows), default=0)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.as_tensor(r, dtype=torch.long)
            mask[i, : len(r)] = 1
        return {"input_ids": ids, "attention_mask": mask}


def encode_text(ds: DomainDataset, tokenizer: Any, max_length: int) -> dict[str, Any]:
    texts = ["" if t is None else t for t in ds.inputs]
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    return {"input_ids": ids}


def encode_features(x: Any) -> dict[str, Any]:
    if not (sp.issparse(x) or isinstance(x, np.ndarray)):
        raise DataError("feature inputs must be a numpy or scipy-sparse matrix")
    return {"x": x.tocsr() if sp.issparse(x) else np.asarray(x, dtype=np.float32)}
