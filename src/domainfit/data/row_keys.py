"""One hashable key per sample, exact or normalised, so duplicates and leaks can be counted.

Exact keys: the raw text, the row's values, the feature vector's bytes, an image file's bytes.
Near keys: text lowercased with punctuation and spacing removed; table and feature rows rounded to
``decimals``; images by perceptual hashes within a few bits of each other.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from domainfit.data.dataset import DomainDataset
from domainfit.progress import track

# Copies (re-encoded, resized) measured within 2-9 bits of 64; distinct photos 14+ bits apart.
PHASH_MAX_BITS = 6
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def normalise_text(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", folded).strip()


def exact_keys(ds: DomainDataset) -> list[str | None]:
    """None for samples that have no content to compare (missing text, unreadable file)."""
    if ds.kind == "text":
        return [None if t is None else _digest(t.encode("utf-8")) for t in ds.inputs]
    if ds.kind == "tabular":
        return _frame_keys(ds.inputs, decimals=None)
    if ds.kind == "features":
        return _matrix_keys(ds.inputs, decimals=None)
    return [_image_key(p, "exact") for p in track(ds.inputs, "hashing images")]


def near_keys(ds: DomainDataset, decimals: int = 3) -> list[str | None]:
    if ds.kind == "text":
        return [
            None if t is None or not normalise_text(t) else _digest(normalise_text(t).encode())
            for t in ds.inputs
        ]
    if ds.kind == "tabular":
        return _frame_keys(ds.inputs, decimals=decimals)
    if ds.kind == "features":
        return _matrix_keys(ds.inputs, decimals=decimals)
    return near_keys_joint([ds], decimals)[0]


def near_keys_joint(sets: list[DomainDataset], decimals: int = 3) -> list[list[str | None]]:
    """Near keys comparable across datasets. Images need this: perceptual hashes of copies
    differ by a few bits, so hashes within ``PHASH_MAX_BITS`` are grouped over all sets at once."""
    if not sets or any(ds.kind != "image" for ds in sets):
        return [near_keys(ds, decimals) for ds in sets]
    from domainfit.data.image_files import group_similar_hashes

    raw: list[str | None] = []
    for ds in sets:
        bad = {p.index for p in ds.problems}  # a decodable but truncated file is no duplicate
        keys = [_image_key(p, "near") for p in track(ds.inputs, "perceptual hashes")]
        raw += [None if i in bad else k for i, k in enumerate(keys)]
    grouped = group_similar_hashes(raw, PHASH_MAX_BITS)
    out, start = [], 0
    for ds in sets:
        out.append(grouped[start : start + len(ds)])
        start += len(ds)
    return out


@functools.lru_cache(maxsize=200_000)
def _cached_image_key(path: str, how: str, mtime_ns: int, size: int) -> str | None:
    from domainfit.data.image_files import file_sha256, perceptual_hash

    try:
        return file_sha256(path) if how == "exact" else perceptual_hash(path)
    except OSError:
        return None


def _image_key(path: str, how: str) -> str | None:
    """Cached per file version: the audit hashes before and after cleaning and splitting."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return _cached_image_key(path, how, st.st_mtime_ns, st.st_size)


def _cell(value: object, decimals: int | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "\x00NA"
    if isinstance(value, float | np.floating):
        v = float(value)
        return repr(round(v, decimals) + 0.0 if decimals is not None else v)
    if isinstance(value, str) and decimals is not None:
        return normalise_text(value)
    return repr(value)


def _frame_keys(df: pd.DataFrame, decimals: int | None) -> list[str | None]:
    keys: list[str | None] = []
    for row in df.itertuples(index=False, name=None):
        keys.append(_digest("\x1f".join(_cell(v, decimals) for v in row).encode("utf-8")))
    return keys


def _matrix_keys(x: np.ndarray | sp.spmatrix, decimals: int | None) -> list[str | None]:
    if sp.issparse(x):
        csr = sp.csr_matrix(x)
        csr.sum_duplicates()
        keys: list[str | None] = []
        for i in range(csr.shape[0]):
            lo, hi = csr.indptr[i], csr.indptr[i + 1]
            data = csr.data[lo:hi].astype(np.float64)
            if decimals is not None:
                data = np.round(data, decimals) + 0.0
            nz = data != 0
            keys.append(_digest(csr.indices[lo:hi][nz].tobytes() + data[nz].tobytes()))
        return keys
    dense = np.asarray(x, dtype=np.float64)
    if decimals is not None:
        dense = np.round(dense, decimals) + 0.0  # + 0.0 folds -0.0 into 0.0
    return [_digest(np.ascontiguousarray(row).tobytes()) for row in dense]
