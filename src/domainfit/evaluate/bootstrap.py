"""Uncertainty by resampling the test samples: percentile bootstrap confidence intervals, and
paired comparisons of two models on the same samples (paired bootstrap and McNemar's test)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(y: np.ndarray, proba: np.ndarray) -> float:
    return float((np.asarray(proba).argmax(1) == np.asarray(y)).mean())


def resample_indices(n: int, rounds: int, seed: int) -> np.ndarray:
    """(rounds, n) sample positions, drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(rounds, n))


def _values(metric: Metric, y: np.ndarray, out: np.ndarray, idx: np.ndarray) -> np.ndarray:
    vals = []
    with warnings.catch_warnings():  # a resample may miss a class: sklearn warns, we skip it
        warnings.simplefilter("ignore")
        for rows in idx:
            try:
                vals.append(metric(y[rows], out[rows]))
            except ValueError:  # e.g. an AUC on a resample that holds one class only
                continue
    return np.asarray(vals, dtype=np.float64)


def bootstrap_ci(
    metric: Metric,
    y: np.ndarray,
    out: np.ndarray,
    *,
    rounds: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of ``metric`` over ``rounds`` resamples of the samples."""
    y, out = np.asarray(y), np.asarray(out)
    vals = _values(metric, y, out, resample_indices(len(y), rounds, seed))
    if len(vals) == 0:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(vals, [tail, 100 - tail])
    return float(lo), float(hi)


@dataclass
class Comparison:
    """``a`` minus ``b`` on the same samples."""

    metric: str
    a: float
    b: float
    diff: float
    ci: tuple[float, float]
    p_bootstrap: float
    p_mcnemar: float | None = None
    level: float = 0.95

    @property
    def significant(self) -> bool:
        return not (self.ci[0] <= 0.0 <= self.ci[1])

    def sentence(self, name_a: str = "A", name_b: str = "B", scale: float = 100.0) -> str:
        unit = " points" if scale == 100.0 else ""
        ci = f"{self.level:.0%} CI {scale * self.ci[0]:+.2f} to {scale * self.ci[1]:+.2f}"
        mc = f", McNemar p={self.p_mcnemar:.3g}" if self.p_mcnemar is not None else ""
        if not self.significant:
            return (
                f"no significant difference in {self.metric} between {name_a} and {name_b}: "
                f"{scale * self.diff:+.2f}{unit} ({ci}{mc})"
            )
        # told from the winner's side, so the interval has the sign of the words
        winner, loser = (name_a, name_b) if self.diff > 0 else (name_b, name_a)
        lo, hi = self.ci if self.diff > 0 else (-self.ci[1], -self.ci[0])
        ci = f"{self.level:.0%} CI {scale * lo:+.2f} to {scale * hi:+.2f}"
        return (
            f"{winner} beats {loser} on {self.metric} by {scale * abs(self.diff):.2f}{unit} "
            f"({ci}{mc})"
        )


def paired_comparison(
    y: np.ndarray,
    out_a: np.ndarray,
    out_b: np.ndarray,
    metric: Metric = accuracy,
    *,
    name: str = "accuracy",
    rounds: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Resample sample indices once per round and score both models on the same resample, so
    the interval reflects the difference, not each model's own spread. For accuracy, McNemar's
    exact test on the discordant pairs is added."""
    y, out_a, out_b = np.asarray(y), np.asarray(out_a), np.asarray(out_b)
    idx = resample_indices(len(y), rounds, seed)
    diffs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rows in idx:
            try:
                diffs.append(metric(y[rows], out_a[rows]) - metric(y[rows], out_b[rows]))
            except ValueError:
                continue
    d = np.asarray(diffs)
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(d, [tail, 100 - tail])
    # two-sided: how often the resampled difference falls on the other side of zero
    p_boot = float(min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean())))
    a, b = metric(y, out_a), metric(y, out_b)
    p_mc = mcnemar(y, out_a.argmax(1), out_b.argmax(1)) if name == "accuracy" else None
    return Comparison(name, a, b, a - b, (float(lo), float(hi)), p_boot, p_mc, level)


def mcnemar(y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> float:
    """Exact McNemar test: among samples exactly one model gets right, is either side more
    likely than 1/2?"""
    right_a, right_b = np.asarray(pred_a) == y, np.asarray(pred_b) == y
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    if only_a + only_b == 0:
        return 1.0
    return float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)
