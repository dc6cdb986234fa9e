"""Batches for training: tokenised text with dynamic padding, feature rows, images.

Shuffling is a pure function of (seed, epoch), so a resumed run can skip exactly the batches
it had already consumed (``start_batch``) and see the rest in the same order, and the processes
of a data-parallel run agree on every batch: each takes its stripe (``rank``, ``world``).

Text batches pad to their longest row, so with ``bucket`` on, training batches hold rows of
similar length (less padding, same samples): see ``bucketed_order``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from domainfit.data.dataset import DomainDataset
from domainfit.data.token_cache import TokenCache, Truncation, tokenize
from domainfit.errors import DataError

BUCKET_CHUNK = 50  # batches per shuffled chunk sorted by length: similar widths, still random


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


def bucketed_order(
    lengths: np.ndarray, batch_size: int, seed: int, epoch: int, chunk: int = BUCKET_CHUNK
) -> np.ndarray:
    """A permutation whose consecutive ``batch_size`` slices hold rows of similar length.

    The epoch's shuffle (the draw ``epoch_order`` makes) is cut into chunks of ``chunk``
    batches, each chunk sorted by length (stable: equal lengths keep their random order) and cut
    into batches, and the full batches are shuffled with the same generator. A smaller last
    batch stays last, as without buckets: it is the one batch whose mean loss has fewer rows.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    step = batch_size * chunk
    parts = [part[np.argsort(lengths[part], kind="stable")] for part in _chunks(order, step)]
    order = np.concatenate(parts) if parts else order
    n_full = len(order) // batch_size
    full = order[: n_full * batch_size].reshape(n_full, batch_size)[rng.permutation(n_full)]
    return np.concatenate([full.reshape(-1), order[n_full * batch_size :]])


def length_order(lengths: np.ndarray) -> np.ndarray:
    """Shortest first (stable), for batches whose order does not matter to the caller."""
    return np.argsort(lengths, kind="stable")


def _chunks(order: np.ndarray, size: int) -> list[np.ndarray]:
    return [order[i : i + size] for i in range(0, len(order), size)]


class Batches:
    """An epoch's batches over pre-encoded samples; ``len`` is the number of batches.

    With ``world`` > 1 each batch is this process's rows ``rank::world`` of the global batch
    (possibly none, for a last batch smaller than ``world``).

    ``bucket`` (text sets; ignored for others): with ``shuffle``, batches of similar length in
    random order (``bucketed_order``); without, the whole set shortest first, so a caller that
    needs outputs per sample puts them back with ``self.order`` (``restore_order``)."""

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
        bucket: bool = False,
    ) -> None:
        self.encoded = encoded
        self.batch_size = batch_size
        lengths = encoded.lengths() if bucket else None
        if lengths is None:
            self.order = epoch_order(len(encoded), seed, epoch, shuffle)
        elif shuffle:
            self.order = bucketed_order(lengths, batch_size, seed, epoch)
        else:
            self.order = length_order(lengths)
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

    def padded_tokens(self) -> int:
        """Token positions the batches of this epoch hold, padding included (text sets)."""
        lengths = self.encoded.lengths()
        if lengths is None:
            return 0
        return sum(
            int(lengths[rows].max(initial=0)) * len(rows)
            for rows in (self.global_rows(b) for b in range(len(self)))
        )


def restore_order(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rows computed in ``order`` (one per sample) back in the samples' own order."""
    out = np.empty_like(values)
    out[order] = values
    return out


class EncodedSet:
    """Inputs turned into model-ready arrays once (tokenisation is not repeated per epoch)."""

    def __init__(self, inputs: dict[str, Any], labels: np.ndarray | None, pad_id: int = 0) -> None:
        self.inputs = inputs
        self.labels = labels
        self.pad_id = pad_id
        first = next(iter(inputs.values()))  # every key has one row per sample
        self.n = first.shape[0] if hasattr(first, "shape") else len(first)
        self._lengths: np.ndarray | None = None

    def __len__(self) -> int:
        return self.n

    def lengths(self) -> np.ndarray | None:
        """Tokens per sample for text (computed once); None for other inputs."""
        if "input_ids" not in self.inputs:
            return None
        if self._lengths is None:
            self._lengths = np.fromiter(
                (len(r) for r in self.inputs["input_ids"]), dtype=np.int64, count=self.n
            )
        return self._lengths

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


def encode_text(
    ds: DomainDataset,
    tokenizer: Any,
    max_length: int,
    cache: TokenCache | None = None,
    truncation: Truncation = "head",
) -> dict[str, Any]:
    """Token ids per text (no padding: batches pad themselves), read from ``cache`` when an
    earlier run tokenised the same texts the same way. ``truncation``: which part of a text
    longer than ``max_length`` is kept (see :func:`tokenize`)."""
    texts = ["" if t is None else str(t) for t in ds.inputs]
    if cache is not None:
        return {"input_ids": cache.ids(texts, max_length, truncation)}
    return {"input_ids": tokenize(tokenizer, texts, max_length, truncation)}


def encode_features(x: Any) -> dict[str, Any]:
    if not (sp.issparse(x) or isinstance(x, np.ndarray)):
        raise DataError("feature inputs must be a numpy or scipy-sparse matrix")
    return {"x": x.tocsr() if sp.issparse(x) else np.asarray(x, dtype=np.float32)}
