"""Progress of long steps: bars on a terminal, heartbeat lines in logs, nothing in quiet mode.

How each mode draws is in ``progress_phase``. The console says epochs from 1 ("epoch 1/3"), as
``metrics.jsonl``'s ``epoch`` does (docs/run-folder.md).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # rich loads on first use: the CLI imports ``silenced`` at start-up
    from rich.console import Console

    from domainfit.progress_phase import Phase

T = TypeVar("T")
_QUIET: ContextVar[bool] = ContextVar("domainfit_quiet", default=False)
_STAGE: ContextVar[str] = ContextVar("domainfit_stage", default="")
_CONSOLE: ContextVar[Console | None] = ContextVar("domainfit_console", default=None)


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


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Phases within this block are labelled ``name · ...`` (a baseline, a fold), so a log
    says which of several runs a line belongs to."""
    outer = _STAGE.get()
    token = _STAGE.set(f"{outer} · {name}" if outer else name)
    try:
        yield
    finally:
        _STAGE.reset(token)


@contextmanager
def use_console(console: Console) -> Iterator[None]:
    """Report to ``console`` (a terminal when it says so) instead of stderr: for tests."""
    token = _CONSOLE.set(console)
    try:
        yield
    finally:
        _CONSOLE.reset(token)


def mode() -> str:
    """The reporting mode: "bar" on a terminal, "log" in a pipe or file, or "quiet"."""
    if quiet():
        return "quiet"
    console = _CONSOLE.get()
    terminal = console.is_terminal if console is not None else sys.stderr.isatty()
    return "bar" if terminal else "log"


def enabled() -> bool:
    """Whether bars are drawn (a terminal, not quiet)."""
    return mode() == "bar"


def _console() -> Console:
    from rich.console import Console

    # stderr is looked up at each write, so a redirected stderr (pytest's capture) is used
    return _CONSOLE.get() or Console(stderr=True, highlight=False, soft_wrap=True)


def phase(label: str, total: int | None, **options: Any) -> Phase:
    """A ``Phase`` (see ``progress_phase``) in the current mode; call ``close`` at its end."""
    from domainfit.progress_phase import Phase

    named = f"{_STAGE.get()} · {label}" if _STAGE.get() else label
    return Phase(named, total, mode=mode(), console=_console(), **options)


def say(line: str) -> None:
    """A line on stderr (above any bars), unless quiet."""
    if quiet():
        return
    from domainfit.progress_phase import say as print_line

    print_line(line, _console())


def batch_rows(batch: Any) -> int:
    """Samples in a batch dict (each value holds one row per sample)."""
    first = next(iter(batch.values()), None) if isinstance(batch, dict) else None
    return 0 if first is None else len(first)


def track(
    items: Iterable[T],
    description: str,
    total: int | None = None,
    *,
    unit: str = "item",
    size: Callable[[T], int] | None = None,
) -> Iterator[T]:
    """Yield ``items`` while reporting the loop's progress. ``size(item)``: the samples an item
    holds (a batch's rows), for a rate in samples/s; else the rate is in ``unit``s/s."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if quiet():
        yield from items
        return
    p = phase(description, total, unit=unit)
    try:
        for item in items:
            yield item
            p.advance(1, size(item) if size is not None else None)
    finally:
        p.close()


def track_batches(batches: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """``track`` for batch dicts: counts batches, rates in samples/s."""
    return track(batches, description, total, unit="batch", size=batch_rows)


class TrainingProgress:
    """Training's progress: per epoch a bar (terminal) or heartbeat lines (logs) with batches,
    samples/s, ETA and the running loss, then one line with the epoch's metrics; nothing in
    quiet mode. ``rows``: the training samples of an epoch, for the samples/s."""

    def __init__(self, epochs: int, batches: int, rows: int = 0) -> None:
        self.epochs, self.batches, self.rows = epochs, batches, rows
        self.phase: Phase | None = None
        self.started = time.perf_counter()
        self.running_loss: Callable[[], float] | None = None

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        if self.phase is not None:
            self.phase.close()
            self.phase = None

    def epoch_start(self, epoch: int, done: int) -> None:
        self._close()
        self.started = time.perf_counter()
        if quiet():
            return
        per_batch = self.rows / self.batches if self.rows and self.batches else None
        label = f"train epoch {epoch + 1}/{self.epochs}"
        # a training epoch is known to be long: its bar shows from the start
        self.phase = phase(label, self.batches, done=done, rows=per_batch, bar_after=0.0)
        self.phase.end_line = False  # the epoch's line (``epoch_done``) ends it

    def batch_done(self, running_loss: Callable[[], float]) -> None:
        """``running_loss`` is called only when a bar or line is drawn: reading the loss makes
        the trainer wait for the device, so it happens a few times a second at most."""
        if self.phase is not None:
            self.running_loss = running_loss
            self.phase.advance(1, metric=self._loss)

    def _loss(self) -> str:
        return "" if self.running_loss is None else f"loss {self.running_loss():.4f}"

    def epoch_done(self, epoch: int, row: dict[str, float]) -> None:
        self._close()
        shown = " · ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "step"))
        from domainfit.progress_phase import duration

        took = duration(time.perf_counter() - self.started)
        say(f"epoch {epoch + 1}/{self.epochs} · {shown} · {took}")
