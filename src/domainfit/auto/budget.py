"""The compute budget of ``domainfit auto``: parsing "1h30m", a clock, and step estimates.

Estimates start from priors (``priors.COSTS``), are replaced by a measurement on this machine
before the first step, and are recalibrated after every step by the ratio of its measured to
its estimated time: the plan adapts to a busy or fast machine as it goes.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from domainfit.errors import ConfigError
from domainfit.progress_phase import duration  # noqa: F401  (re-exported: auto reads it here)

MIN_BUDGET = 60.0  # below a minute not even one step and the final stage fit
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")


def parse_budget(text: str | float | int) -> float:
    """Seconds in "30m", "90s", "1h", "1h30m", "1.5h" or a bare number of seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        raw = str(text).strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", raw):
            seconds = float(raw)
        else:
            parts = _PART.findall(raw)
            units = [u for _, u in parts]
            ordered = units == sorted(units, key="hms".index) and len(set(units)) == len(units)
            if not parts or "".join(n + u for n, u in parts) != raw or not ordered:
                raise ConfigError(
                    f"--budget {text!r} is not a duration",
                    "write it like 30m, 90s, 1h or 1h30m",
                )
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not math.isfinite(seconds) or seconds < MIN_BUDGET:
        raise ConfigError(
            f"--budget {text!r} is under the minimum of {MIN_BUDGET:.0f} s",
            "give at least 1m (one step and the final baselines, diagnosis and export)",
        )
    return seconds


@dataclass
class Clock:
    """Wall time against the budget; ``spent_before``: time of earlier, interrupted runs of
    the same experiment (the budget covers the whole experiment, not each attempt)."""

    budget: float
    spent_before: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def spent(self) -> float:
        return self.spent_before + time.monotonic() - self.started

    def left(self) -> float:
        return self.budget - self.spent()


@dataclass
class Costs:
    """Seconds per sample of inference and of one training pass (forward and backward), and
    a fixed cost per run (building the model, tokenising, evaluating, writing the folder)."""

    infer: float
    train: float
    overhead: float
    source: str  # where the numbers come from: "prior" or "measured"

    def run(self, infer_samples: float, train_samples: float) -> float:
        return self.overhead + self.infer * infer_samples + self.train * train_samples


@dataclass
class Calibration:
    """Measured / estimated time of the finished steps: later estimates are scaled by it.
    The median of the ratios: one step slowed by a burst of other load does not swing it."""

    ratios: list[float] = field(default_factory=list)

    def add(self, estimated: float, measured: float) -> None:
        if estimated > 0 and measured > 0:
            self.ratios.append(measured / estimated)

    @property
    def factor(self) -> float:
        if not self.ratios:
            return 1.0
        ordered = sorted(self.ratios)
        mid = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[mid]
        return (ordered[mid - 1] + ordered[mid]) / 2
