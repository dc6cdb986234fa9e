"""A full disk while saving weights or a checkpoint is the user's to fix (free space, write
elsewhere), so it is told as one line naming the folder, not as a writer's internal error."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from domainfit.errors import DataError

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# safetensors and torch.save write from native code: their errors carry the OS's message only
_FULL_TEXT = ("no space left", "storagefull", "os error 28", "code: 28", "quota exceeded")
_TORCH_WRITE = ("pytorchstreamwriter failed", "file write failed", "unexpected pos")


@contextmanager
def disk_full_as_error(folder: Path, what: str) -> Iterator[None]:
    """Raise ``DataError`` for a write inside the block that failed for want of space."""
    try:
        yield
    except Exception as err:
        if not _out_of_space(err):
            raise
        raise DataError(
            f"no space left on the device to write {what} in {folder} ({_free(folder)} free)",
            "free disk space and continue with fit --resume, or start the run again with --out "
            "on another disk",
        ) from None


def _out_of_space(err: BaseException) -> bool:
    if isinstance(err, OSError) and err.errno in _FULL_ERRNOS:
        return True
    text = str(err).lower()
    if type(err).__name__ == "SafetensorError":
        return any(t in text for t in _FULL_TEXT)
    if isinstance(err, RuntimeError):
        return any(t in text for t in _FULL_TEXT + _TORCH_WRITE)
    return False


def _free(folder: Path) -> str:
    for path in (folder, *folder.parents):
        if path.exists():
            try:
                free = float(shutil.disk_usage(path).free)
            except OSError:
                break
            for unit in ("bytes", "KB", "MB", "GB"):
                if free < 1024 or unit == "GB":
                    return f"{free:.0f} {unit}" if unit == "bytes" else f"{free:.1f} {unit}"
                free /= 1024
    return "unknown space"
