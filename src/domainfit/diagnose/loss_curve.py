"""The per-step training loss read as a noisy signal, for ``lr_too_high``.

A step's loss is the mean over one batch. At batch size 16 a single confidently misclassified
sample (loss 3-5) lifts that mean by 0.2-0.3, so a lone high step is the batch, not the learning
rate. A rate that is too high damages the *weights*: the steps after it, on other batches, stay
high too, or the smoothed curve climbs. Hence the two-part rule here:

- an *outlier* is a step above the median of the ``WINDOW`` steps before it by more than
  ``SPIKE_SIGMAS`` robust noise units (1.4826 x the median absolute deviation of those steps
  around their median: the standard deviation for Gaussian noise, unmoved by the outliers
  themselves), by more than ``SPIKE_FACTOR`` x that median and by more than ``MIN_JUMP``;
- a *spike* is an outlier that persists: ``STAY_COUNT`` of the ``AFTER`` steps that follow it
  are higher than the ``STAY_QUANTILE`` quantile of the ``REFERENCE`` steps before it. A hard
  batch leaves the weights as they were, so the next batches are draws from the same spread
  as before; each beats that quantile with chance 0.1, and 4 of 5 do so about once in 2,000
  outliers, whatever the batch size and however heavy the tail of the per-batch loss. (The
  reference is longer than WINDOW because outliers are found where the window happens to be
  calm: its own maximum would be beaten too often. Simulated healthy runs at batch sizes 4 to
  32, 100 each: no false spike at 16 or 32, 2 at 4 and 8; repeated blow-ups at 16: all found.
  Four healthy image runs here, which the old 2.5x-the-running-median rule gave 4 to 16
  "spikes" each: none.)

A classification outlier also counts when no batch of sane predictions could produce it: the
step's loss is over ``EXCESS_FACTOR`` x the level (the batch's other samples are about as sure
as their neighbours') and the jump times the batch size, the loss the batch carries above the
level, is over ``MAX_BATCH_EXCESS`` nats. A few samples then carry tens of nats each (25 nats:
probability 1e-11 on the true class), which takes blown-up logits, not a hard example. This is
where the batch size enters: the same 2.0 jump is one hard sample at batch size 4 and 64 nats
at 32. (The factor keeps large batches out of it: at 128, 25 nats is a few more wrong samples
than usual on a level that already has some.)

Outliers within ``AFTER`` steps of each other are one event: a blow-up that decays over twenty
steps is one spike, not twenty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW = 20
SPIKE_SIGMAS = 6.0
SPIKE_FACTOR = 1.5
MIN_JUMP = 0.1  # nats: a smaller jump is no instability worth a finding
AFTER = 5
REFERENCE = 50
STAY_QUANTILE = 0.9
STAY_COUNT = 4
MAX_BATCH_EXCESS = 25.0
EXCESS_FACTOR = 10.0
RISE_FACTOR = 1.5  # the last block's median this many times the best block's: diverging
RISE_SHARE = 0.75  # of the last block's steps above the best block's median (chance: half)
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Outlier:
    step: int
    loss: float
    level: float  # median of the WINDOW steps before
    noise: float  # robust standard deviation of those steps
    sustained: bool  # the steps after it stayed high (see the module's rule)
    excess: float | None = None  # jump x batch size: the batch's loss above the level, in nats

    @property
    def spike(self) -> bool:
        """The weights, not the batch: it persisted, or no sane batch carries that much."""
        if self.sustained:
            return True
        blown = self.excess is not None and self.excess > MAX_BATCH_EXCESS
        return blown and self.loss > EXCESS_FACTOR * self.level


def robust_noise(values: np.ndarray) -> float:
    """The spread of ``values`` around their median, in standard-deviation units."""
    return MAD_TO_SIGMA * float(np.median(np.abs(values - np.median(values))))


def outliers(losses: list[float], batch: int | None = None) -> list[Outlier]:
    """Every step that jumps out of the noise before it, one per event. ``batch``: samples
    behind each step's (mean cross-entropy) loss; None for other losses or when unknown."""
    arr = np.asarray(losses, dtype=np.float64)
    out: list[Outlier] = []
    last = -(AFTER + 1)
    for i in range(WINDOW, len(arr)):
        before = arr[i - WINDOW : i]
        level = float(np.median(before))
        noise = robust_noise(before)
        jump = float(arr[i]) - level
        if jump <= max(SPIKE_SIGMAS * noise, MIN_JUMP) or arr[i] <= SPIKE_FACTOR * level:
            continue
        if i - last > AFTER:
            following = arr[i + 1 : i + 1 + AFTER]
            high = np.quantile(arr[max(0, i - REFERENCE) : i], STAY_QUANTILE)
            stays = int((following > high).sum()) >= STAY_COUNT
            excess = None if batch is None else jump * batch
            out.append(Outlier(i, float(arr[i]), level, noise, stays, excess))
        last = i
    return out


def spikes(losses: list[float]) -> list[int]:
    """Steps where an outlier event starts, sustained or not."""
    return [o.step for o in outliers(losses)]


@dataclass(frozen=True)
class Trend:
    best: float  # the lowest median of a block of training before the last one
    end: float  # the median of the last block
    above: float  # share of the last block's steps above ``best``

    @property
    def diverging(self) -> bool:
        return (
            self.end > RISE_FACTOR * self.best
            and self.end - self.best > MIN_JUMP
            and self.above >= RISE_SHARE
        )


def trend(losses: list[float]) -> Trend | None:
    """Medians of equal blocks (a tenth of the run, at least WINDOW steps): the best one and
    the last one. Medians of many steps wash out batch noise, so a climb between them is the
    weights; equal blocks keep the best from being the luckiest of many short windows. None
    for runs too short for three blocks."""
    arr = np.asarray(losses, dtype=np.float64)
    size = max(WINDOW, len(arr) // 10)
    if len(arr) < 3 * size:
        return None
    last = arr[-size:]
    body = arr[: len(arr) - size]
    medians = [float(np.median(body[i : i + size])) for i in range(0, len(body) - size + 1, size)]
    best = min(medians)
    return Trend(best, float(np.median(last)), float((last > best).mean()))
