"""Progress bars for long loops, only when a person is watching; quiet mode for CI."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")
MIN_ITEMS = 500
REDRAW_SECONDS = 0.5  # the training bar takes its batches and running loss this often
_QUIET: ContextVar[bool] = ContextVar("domainfit_quiet", default=False)


def quiet() -> bool:
    return _QUIET.get() or bool(os.environ.get("DOMAINFIT_QUIET"))


@contextmanager
def silenced(on: bool = True) -> Iterator[None]:
    """Within this block nothing reports progress (``--quiet``)."""
    token = _QUIET.set(on or _QUIET.get())
    try:
        yield
    finally:
        _QUIET.reset(token)


def enabled() -> bool:
    return sys.stderr.isatty() and not quiet()


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


class TrainingProgress:
    """Training's progress: on a terminal a bar per epoch with ETA and the running loss; in logs
    (no terminal) one line per epoch; nothing in quiet mode."""

    def __init__(self, epochs: int, batches: int) -> None:
        self.epochs, self.batches = epochs, batches
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.started = time.perf_counter()
        self.pending = 0  # batches done since the bar was last updated
        self.updated = 0.0

    def __enter__(self) -> TrainingProgress:
        if enabled():
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[metric]}"),
            )
            self.bar = Progress(*columns, console=Console(stderr=True))
            self.bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()

    def epoch_start(self, epoch: int, done: int) -> None:
        self.started = self.updated = time.perf_counter()
        self.pending = 0
        if self.bar is not None:
            self.task = self.bar.add_task(
                f"epoch {epoch + 1}/{self.epochs}", total=self.batches, completed=done, metric=""
            )

    def batch_done(self, running_loss: Callable[[], float]) -> None:
        """``running_loss`` is called only when the bar is redrawn: reading the loss makes the
        trainer wait for the device, so it happens a few times a second, not every batch."""
        if self.bar is None or self.task is None:
            return
        self.pending += 1
        now = time.perf_counter()
        if now - self.updated >= REDRAW_SECONDS:
            metric = f"loss {running_loss():.4f}"
            self.bar.update(self.task, advance=self.pending, metric=metric)
            self.pending, self.updated = 0, now

    def epoch_done(self, epoch: int, row: dict[str, float]) -> None:
        if self.bar is not None and self.task is not None and self.pending:
            self.bar.update(self.task, advance=self.pending)
            self.pending = 0
        if quiet():
            return
        shown = " · ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "step"))
        seconds = time.perf_counter() - self.started
        line = f"epoch {epoch + 1}/{self.epochs} · {shown} · {seconds:.0f} s"
        if self.bar is not None:
            self.bar.console.print(line)
        else:
            Console(stderr=True, highlight=False).print(line)
