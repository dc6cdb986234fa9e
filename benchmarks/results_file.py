"""Appending rows to a shared benchmark results file, safely from several processes."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from pathlib import Path
from typing import Any

from domainfit.io_utils import write_json_atomic


def append_rows(path: Path, doc: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Re-read ``path``'s rows, append ``rows`` and rewrite it under a lock, so workers given
    disjoint seeds, sources or families can share one file (``doc`` is updated in place)."""
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.is_file():
            doc["rows"] = json.loads(path.read_text())["rows"]
        doc["rows"].extend(rows)
        doc["date"] = dt.date.today().isoformat()
        write_json_atomic(path, doc)
