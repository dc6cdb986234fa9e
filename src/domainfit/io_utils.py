"""Atomic writes: a reader never sees half a file, a failed run leaves nothing behind."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; it becomes ``final`` only if the block succeeds."""
    if final.exists():
        raise FileExistsError(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
    try:
        yield tmp
        tmp.replace(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_format(d: Any, fmt: str, version: int, what: str) -> dict[str, Any]:
    """A saved state of ours, of the version this code reads; otherwise a clear DataError."""
    from domainfit.errors import DataError

    if not isinstance(d, dict) or (d.get("format"), d.get("version")) != (fmt, version):
        raise DataError(
            f"not a domainfit {what} of format version {version}", "run prepare again to refit it"
        )
    return d


def read_state(path: str | Path, fmt: str, version: int, what: str) -> dict[str, Any]:
    """Read a JSON state written by ``write_json_atomic`` and check its format."""
    from domainfit.errors import DataError

    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read {what} file {path}: {exc}", "run prepare") from None
    return check_format(d, fmt, version, what)
