"""Token ids kept on disk, so a run on texts an earlier run tokenised reads them back.

One safetensors file per (tokenizer, ``max_length``, truncation, texts), named by their sha256:

- the tokenizer: its class and, for a fast tokenizer, the complete serialised pipeline
  (vocabulary, normaliser, pre-tokeniser, special-token template); for a slow one its vocabulary,
  special tokens and settings. Two folders holding the same tokenizer share entries;
- ``max_length`` (truncation is always on) and which part of a long text is kept
  (``head``, ``tail``, ``head_tail``; see :func:`tokenize`);
- every text, length-prefixed, in order.

The file holds the ids of all rows concatenated (int32) and the row offsets (int64, one more
than the rows). Written under a temporary name and renamed; a file that cannot be read or does
not add up (a truncated copy, another format) is ignored and written again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

FORMAT = "1"  # bump when what a file holds, or how the ids are computed, changes
# texts per tokenizer call: big enough for the fast tokenizer's parallel batches, small enough
# that a long tokenisation reports its progress (a text's ids do not depend on its batch)
CHUNK = 4096

Truncation = Literal["head", "tail", "head_tail"]
# head_tail: share of the token budget kept from the start; the rest comes from the end. Sun et
# al. 2019 ("How to Fine-Tune BERT for Text Classification") found 128 head + 382 tail tokens
# best on long reviews (IMDb): a quarter from the opening, the rest from the conclusion
HEAD_SHARE = 0.25


def tokenize(
    tokenizer: Any, texts: Sequence[str], max_length: int, truncation: Truncation = "head"
) -> list[list[int]]:
    """Token ids per text, at most ``max_length`` with the special tokens: batched calls of
    ``CHUNK`` texts (a fast tokenizer encodes a batch in Rust, in parallel), without the masks
    and type ids the batches build themselves. A longer text keeps its first tokens (``head``),
    its last (``tail``), or both ends (``head_tail``: ``HEAD_SHARE`` of the budget from the
    start); the special tokens ([CLS] ... [SEP]) frame whatever is kept."""
    from domainfit.progress import track

    rows: list[list[int]] = []
    n = len(texts)
    chunks = range(0, n, CHUNK)
    frame = None if truncation == "head" else special_frame(tokenizer)
    for start in track(chunks, "tokenising", unit="chunk", size=lambda s: min(CHUNK, n - s)):
        batch = list(texts[start : start + CHUNK])
        if frame is None:  # the tokenizer's own truncation keeps the head
            out = tokenizer(
                batch,
                truncation=True,
                max_length=max_length,
                return_attention_mask=False,
                return_token_type_ids=False,
            )
            rows.extend(out["input_ids"])
            continue
        prefix, suffix = frame
        budget = max(1, max_length - len(prefix) - len(suffix))
        out = tokenizer(
            batch,
            add_special_tokens=False,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,  # untruncated on purpose: no "longer than the maximum" warning
        )
        rows.extend(prefix + kept(ids, budget, truncation) + suffix for ids in out["input_ids"])
    return rows


def kept(ids: list[int], budget: int, truncation: Truncation) -> list[int]:
    """The ``budget`` tokens of ``ids`` that ``truncation`` keeps (all of them when they fit)."""
    if len(ids) <= budget:
        return list(ids)
    if truncation == "head":
        return list(ids[:budget])
    if truncation == "tail":
        return list(ids[-budget:])
    head = int(budget * HEAD_SHARE)
    return list(ids[:head]) + list(ids[len(ids) - (budget - head) :])


def special_frame(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after one text ([CLS] and [SEP] for
    BERT, <s> and </s> for RoBERTa, none for GPT-2), read off an encoding with and without
    them: the tokenizer's own template, whatever kind it is."""
    probe = "a b c"
    bare = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    for at in range(len(full) - len(bare) + 1):
        if full[at : at + len(bare)] == bare:
            return full[:at], full[at + len(bare) :]
    raise ValueError(f"cannot find where {type(tokenizer).__name__} puts its special tokens")


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """What the ids depend on, beyond ``max_length`` and the texts (see the module docstring)."""
    h = hashlib.sha256(f"{FORMAT}|{type(tokenizer).__qualname__}|".encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        h.update(backend.to_str().encode())
    else:
        h.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
        h.update(json.dumps(tokenizer.init_kwargs, sort_keys=True, default=str).encode())
    h.update(json.dumps(tokenizer.special_tokens_map, sort_keys=True, default=str).encode())
    return h.hexdigest()


def cache_key(
    tokenizer_fp: str, max_length: int, texts: Sequence[str], truncation: Truncation = "head"
) -> str:
    # head (the default) adds nothing: files written before truncation was a setting stay valid
    part = "" if truncation == "head" else f"{truncation}|"
    h = hashlib.sha256(f"{FORMAT}|{tokenizer_fp}|{max_length}|{part}{len(texts)}|".encode())
    for text in texts:
        raw = text.encode("utf-8", "surrogatepass")
        h.update(len(raw).to_bytes(8, "little"))  # prefix: ["ab", "c"] != ["a", "bc"]
        h.update(raw)
    return h.hexdigest()


@dataclass
class TokenCache:
    """A folder of token-id files for one tokenizer; ``ids`` tokenises only on a miss."""

    folder: Path
    tokenizer: Any
    _fingerprint: str | None = field(default=None, repr=False)

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:  # serialising a vocabulary costs tens of ms: once
            self._fingerprint = tokenizer_fingerprint(self.tokenizer)
        return self._fingerprint

    def path(self, texts: Sequence[str], max_length: int, truncation: Truncation = "head") -> Path:
        key = cache_key(self.fingerprint, max_length, texts, truncation)
        return self.folder / f"{key}.safetensors"

    def ids(
        self, texts: Sequence[str], max_length: int, truncation: Truncation = "head"
    ) -> list[list[int]]:
        path = self.path(texts, max_length, truncation)
        rows = read_ids(path, len(texts))
        if rows is None:
            rows = tokenize(self.tokenizer, texts, max_length, truncation)
            _try_write(path, rows)
        return rows


def read_ids(path: Path, n_rows: int) -> list[list[int]] | None:
    """The rows stored at ``path``, or None when it is missing, unreadable or inconsistent."""
    if not path.is_file():
        return None
    try:
        arrays = load_file(str(path))
        flat, offsets = arrays["ids"], arrays["offsets"]
    except (SafetensorError, OSError, KeyError, ValueError):
        return None
    if not _consistent(flat, offsets, n_rows):
        return None
    values = flat.tolist()
    bounds = offsets.tolist()
    return [values[a:b] for a, b in pairwise(bounds)]


def _consistent(flat: np.ndarray, offsets: np.ndarray, n_rows: int) -> bool:
    return (
        flat.ndim == 1
        and offsets.shape == (n_rows + 1,)
        and int(offsets[0]) == 0
        and int(offsets[-1]) == len(flat)
        and bool(np.all(np.diff(offsets) >= 0))
    )


def write_ids(path: Path, rows: list[list[int]]) -> None:
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.fromiter((t for r in rows for t in r), dtype=np.int32, count=int(offsets[-1]))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file({"ids": flat, "offsets": offsets}, tmp, metadata={"format": FORMAT})
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _try_write(path: Path, rows: list[list[int]]) -> None:
    """A cache that cannot be written (read-only folder, full disk) costs speed, not the run."""
    try:
        write_ids(path, rows)
    except OSError as err:
        warnings.warn(f"token cache not written to {path}: {err}", stacklevel=3)
