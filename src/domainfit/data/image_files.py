"""Image file checks and hashes, shared by the image folder source and the audit.

Decoding never relies on ``ImageFile.LOAD_TRUNCATED_IMAGES`` (left at its default, False), so a
file whose data stops early fails to decode instead of being padded with grey pixels.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".bmp"})

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Decoding errors Pillow raises for broken data besides OSError (bad headers, bad chunks).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError)
# JPEGs are verified at a reduced DCT scale: every byte is still entropy-decoded (so truncation
# is caught) but the inverse transform and colour conversion are much cheaper.
_VERIFY_DRAFT_SIZE = (256, 256)


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def verify_image(path: str | Path) -> str | None:
    """None when the file decodes completely, else a short reason ("truncated PNG", ...)."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        return f"cannot read file ({err.strerror or type(err).__name__})"
    if not data:
        return "empty file"
    if data.startswith(_PNG_SIGNATURE):
        # Pillow decodes a PNG whose checksum or IEND chunk was cut off without complaint.
        problem = _png_structure_problem(data)
        if problem:
            return problem
    return _decode_problem(data)


def _decode_problem(data: bytes) -> str | None:
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        return "not an image"
    except Image.DecompressionBombError:
        return "too large to decode safely"
    except _DECODE_ERRORS as err:
        return _reason("image", err)
    with img:
        fmt = img.format or "image"
        try:
            if fmt == "JPEG":
                img.draft(img.mode, _VERIFY_DRAFT_SIZE)
            img.load()
        except Image.DecompressionBombError:
            return "too large to decode safely"
        except _DECODE_ERRORS as err:
            return _reason(fmt, err)
    return None


def _reason(fmt: str, err: BaseException) -> str:
    message = str(err)
    if "truncated" in message.lower() or isinstance(err, EOFError | struct.error):
        return f"truncated {fmt}"
    detail = message.splitlines()[0][:80] if message else type(err).__name__
    return f"corrupt {fmt} ({detail})"


def _png_structure_problem(data: bytes) -> str | None:
    """Walk the chunks: each must be complete with a valid CRC, up to and including IEND."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return "truncated PNG"
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(data[pos + 4 : end - 4]) != crc:
            return f"corrupt PNG (bad checksum in {ctype.decode('latin-1')} chunk)"
        if ctype == b"IEND":
            return None
        pos = end
    return "truncated PNG"


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes: equal only for byte-identical files."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def perceptual_hash(path: str | Path) -> str | None:
    """64-bit DCT perceptual hash (imagehash ``phash``) as 16 hex digits; None if unreadable.

    Resized or recompressed copies of a detailed image usually share it exactly, but flat or
    tiny images (under ~128 px) often differ in a few bits; see ``group_similar_hashes``.
    """
    try:
        with Image.open(path) as img:
            return str(imagehash.phash(img))
    except (UnidentifiedImageError, Image.DecompressionBombError):
        return None
    except _DECODE_ERRORS:
        return None


def hash_distance(a: str, b: str) -> int:
    """Number of differing bits between two hex hashes of equal length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def group_similar_hashes(
    hashes: list[str | None], max_distance: int, block: int = 2048
) -> list[str | None]:
    """Map each hash to one representative of its group of hashes within ``max_distance`` bits.

    Groups are the connected components of "distance <= max_distance", and the representative
    is the smallest hash in the component, so equal outputs mean near-duplicates. None stays
    None. Compares every distinct pair (vectorised), so it suits up to ~100k distinct hashes.
    """
    distinct = sorted({h for h in hashes if h is not None})
    if not distinct or max_distance <= 0:
        return list(hashes)
    values = np.array([int(h, 16) for h in distinct], dtype=np.uint64)
    parent = np.arange(len(distinct))
    for start in range(0, len(values), block):
        rows = values[start : start + block]
        close = np.bitwise_count(rows[:, None] ^ values[None, :]) <= max_distance
        for i, j in zip(*np.nonzero(close), strict=True):
            if start + i < j:
                _union(parent, start + int(i), int(j))
    rep = {h: distinct[_find(parent, k)] for k, h in enumerate(distinct)}
    return [None if h is None else rep[h] for h in hashes]


def _find(parent: np.ndarray, k: int) -> int:
    while parent[k] != k:
        parent[k] = parent[parent[k]]  # path halving keeps the trees shallow
        k = int(parent[k])
    return k


def _union(parent: np.ndarray, a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)  # the smaller index (smaller hash) stays the root
