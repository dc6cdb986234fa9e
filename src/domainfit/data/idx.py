"""IDX files (the MNIST format), plain or gzip-compressed.

Layout: two zero bytes, a type code, the number of dimensions, then each dimension as a
big-endian uint32, then the values, big-endian, in C order. Whether a file is gzipped is told by
its first bytes, not its name, so a renamed file still reads.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from domainfit.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
# Type code (third magic byte) -> big-endian dtype.
_DTYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_FIX = "restore the original IDX file (e.g. t10k-images-idx3-ubyte.gz)"


def read_idx(path: Path, ndim: int | None = None) -> np.ndarray:
    """The array in ``path`` (native byte order); ``ndim`` checks the number of dimensions."""
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _DTYPES:
        raise DataError(f"{path} is not an IDX file (magic number {raw[:4].hex()})", _FIX)
    dtype = np.dtype(_DTYPES[raw[2]])
    dims_count = raw[3]
    if ndim is not None and dims_count != ndim:
        raise DataError(f"{path} holds a {dims_count}-d array; expected {ndim}-d", _FIX)
    header = 4 + 4 * dims_count
    if len(raw) < header:
        raise DataError(f"{path} is truncated inside its IDX header", _FIX)
    dims = struct.unpack(f">{dims_count}I", raw[4:header])
    expected = math.prod(dims) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path} has {len(raw) - header} data bytes; its header {dims} promises {expected}",
            _FIX,
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))
    )


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == _GZIP_MAGIC else raw
    except (OSError, EOFError, zlib.error) as err:  # unreadable, or a damaged gzip stream
        raise DataError(f"{path} cannot be read ({err})", _FIX) from None
