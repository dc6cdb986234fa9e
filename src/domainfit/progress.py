"""Progress bars for long loops, only when a person is watching."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")
MIN_ITEMS = 500


def enabled() -> bool:
    return sys.stderr.isatty() and not os.environ.get("DOMAINFIT_QUIET")


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield ``items``; draw a bar with ETA on stderr when the loop is long and stderr is a TTY."""
    size = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    if size is None or size < MIN_ITEMS or not enabled():
        yield from items
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=size)
        for item in items:
            yield item
            bar.advance(task)
