"""One long step of a run (a phase: tokenising, backbone features, a training epoch, validating,
predicting, ranking, ...) and how it reports its progress.

- On a terminal ("bar"): a rich bar row with count, elapsed time, samples/s (or items/s) and ETA,
  shown once the phase has run ``BAR_AFTER_SECONDS`` (quick loops never flash a bar). Rows of
  nested phases (validation inside a training epoch) share the one live display rich allows.
- In a pipe or log file ("log"): plain heartbeat lines, the first at the first item done after
  ``FIRST_LINE_SECONDS`` (so a slow step says so within seconds), then at most one per
  ``DOMAINFIT_PROGRESS_SECONDS`` (default 15), so logs stay short; a phase that printed any
  heartbeat ends with one line holding its total time. Quick phases print nothing.
- "quiet": nothing.

The phase's own clock gives the rate and ETA in both modes, so a terminal and a log agree.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

DEFAULT_INTERVAL = 15.0  # seconds between heartbeat lines in logs
FIRST_LINE_SECONDS = 2.0
BAR_AFTER_SECONDS = 1.0
REDRAW_SECONDS = 0.5  # a bar takes its count (and a training loss, a device read) this often
ENV_INTERVAL = "DOMAINFIT_PROGRESS_SECONDS"

Clock = Callable[[], float]
Metric = Callable[[], str]


def heartbeat_seconds() -> float:
    raw = os.environ.get(ENV_INTERVAL, "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


def duration(seconds: float) -> str:
    """``42s``, ``5m12s``, ``1h03m``: short enough for a heartbeat line."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def per_second(count: float, seconds: float) -> str:
    rate = count / seconds if seconds > 0 else 0.0
    return f"{rate:.1f}" if rate < 100 else f"{rate:.0f}"


def plural(unit: str) -> str:
    return unit + ("es" if unit.endswith(("ch", "s")) else "s")


class LiveBars:
    """The live display that bar rows are drawn in; open while any phase shows a row."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.users = 0

    def open(self, console: Console) -> Progress:
        if self.progress is None:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("{task.fields[eta]}"),
                TextColumn("{task.fields[metric]}"),
            )
            # transient: the bars go when the work is done; the lines printed above them stay
            self.progress = Progress(*columns, console=console, transient=True)
            self.progress.start()
        self.users += 1
        return self.progress

    def close(self) -> None:
        self.users -= 1
        if self.users <= 0 and self.progress is not None:
            self.progress.stop()
            self.progress, self.users = None, 0


LIVE = LiveBars()


def say(line: str, console: Console) -> None:
    """A line above any live bars (printed by the live display, so it does not tear them)."""
    target = LIVE.progress.console if LIVE.progress is not None else console
    target.print(line, markup=False, highlight=False, soft_wrap=True)


class Phase:
    """Progress of one phase of ``total`` items (batches, files, candidates; None: unknown).

    ``rows`` is the samples per item on average (training batches), for when ``advance`` is not
    given them; without either the rate is in items per second. ``done`` items were finished
    before (a resumed epoch): the rate and ETA count only this run's."""

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        mode: str,
        console: Console,
        unit: str = "batch",
        rows: float | None = None,
        done: int = 0,
        bar_after: float = BAR_AFTER_SECONDS,
        end_line: bool = True,
        clock: Clock = time.perf_counter,
    ) -> None:
        self.label, self.total, self.mode, self.console = label, total, mode, console
        self.unit, self.rows, self.end_line, self.clock = unit, rows, end_line, clock
        self.bar_after, self.interval = bar_after, heartbeat_seconds()
        self.start = self.redrawn = clock()
        self.first = self.done = done
        self.samples = 0.0
        self.counted = False  # whether ``advance`` was given sample counts
        self.last_line: float | None = None
        self.lines = 0
        self.bars: Progress | None = None
        self.task: TaskID | None = None
        self.shown = 0  # the items the bar row shows
        if mode == "bar" and bar_after <= 0:
            self._show(None)

    def advance(
        self, items: int = 1, samples: int | None = None, metric: Metric | None = None
    ) -> None:
        """``metric`` (a training loss: a device read) is called only when it is drawn."""
        if self.mode == "quiet":
            return
        self.done += items
        if samples is not None:
            self.samples += samples
            self.counted = True
        elif self.rows is not None:
            self.samples += items * self.rows
        now = self.clock()
        if self.mode == "log":
            if self._line_due(now):
                self.last_line, self.lines = now, self.lines + 1
                parts = [self.label, *self._figures(now), metric() if metric else ""]
                say(" · ".join(p for p in parts if p), self.console)
        elif self.task is None:
            if now - self.start >= self.bar_after:
                self._show(metric)
        elif now - self.redrawn >= REDRAW_SECONDS:
            self._redraw(now, metric)

    def close(self) -> None:
        if self.bars is not None and self.task is not None:
            self.bars.remove_task(self.task)
            self.bars, self.task = None, None
            LIVE.close()
        if self.mode == "log" and self.lines and self.end_line:
            now = self.clock()
            parts = [self.label, f"done {self._count()} {plural(self.unit)}", self._rate(now)]
            parts.append(f"in {duration(now - self.start)}")
            say(" · ".join(p for p in parts if p), self.console)
            self.lines = 0

    def _line_due(self, now: float) -> bool:
        if self.last_line is None:
            return now - self.start >= min(FIRST_LINE_SECONDS, self.interval)
        return now - self.last_line >= self.interval

    def _rate(self, now: float) -> str:
        seconds = now - self.start
        if self.done == self.first:
            return ""
        if self.counted or self.rows is not None:
            return f"{per_second(self.samples, seconds)} samples/s"
        return f"{per_second(self.done - self.first, seconds)} {plural(self.unit)}/s"

    def _eta(self, now: float) -> str:
        ran = self.done - self.first
        if self.total is None or ran <= 0:
            return ""
        left = max(0, self.total - self.done)
        return f"ETA {duration(left * (now - self.start) / ran)}"

    def _count(self) -> str:
        return f"{self.done}/{self.total}" if self.total is not None else str(self.done)

    def _figures(self, now: float) -> list[str]:
        return [p for p in (f"{self.unit} {self._count()}", self._rate(now), self._eta(now)) if p]

    def _show(self, metric: Metric | None) -> None:
        self.bars = LIVE.open(self.console)
        self.task = self.bars.add_task(
            self.label, total=self.total, completed=self.done, rate="", eta="", metric=""
        )
        # a row shown late still counts its elapsed time from the phase's start
        ran = self.clock() - self.start
        for task in self.bars.tasks:
            if task.id == self.task and task.start_time is not None:
                task.start_time -= ran
        self.shown = self.done
        self._redraw(self.clock(), metric)

    def _redraw(self, now: float, metric: Metric | None) -> None:
        assert self.bars is not None and self.task is not None
        fields = {"rate": self._rate(now), "eta": self._eta(now)}
        if metric is not None and self.done > self.first:
            fields["metric"] = metric()
        self.bars.update(self.task, advance=self.done - self.shown, **fields)
        self.shown, self.redrawn = self.done, now
