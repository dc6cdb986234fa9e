"""Appending rows to a shared benchmark results file, safely from several processes."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from domainfit.io_utils import write_json_atomic


def append_rows(
    path: Path,
    doc: dict[str, Any],
    rows: list[dict[str, Any]],
    replaces: Callable[[dict[str, Any]], bool] | None = None,
) -> None:
    """Re-read ``path``'s rows, append ``rows`` and rewrite it under a lock, so workers given
    disjoint seeds, sources or families can share one file (``doc`` is updated in place).
    Rows for which ``replaces`` is true are dropped first: a rerun replaces, never duplicates."""
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            doc["rows"] = json.loads(path.read_text())["rows"]
        if replaces is not None:
            doc["rows"] = [r for r in doc["rows"] if not replaces(r)]
        doc["rows"].extend(rows)
        doc["date"] = dt.date.today().isoformat()
        write_json_atomic(path, doc)
