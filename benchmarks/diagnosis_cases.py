"""Planted data faults for the diagnosis benchmark: each case is a real data set with one fault
of one strength put in on purpose (and its row indices recorded), or its clean twin.

Per (data set, seed) the clean twin is: ``N`` source rows (labelled) and ``M`` target rows drawn
from the *held-out source* (the same distribution, unlabelled), so any finding on it is a false
alarm or a real property of the data. Each fault changes only what it names:

- ``label_noise`` p: p of the source labels flipped to another class, uniformly.
- ``duplicates`` r: r * N extra rows, exact copies of random source rows (same label).
- ``split_leakage`` r: r * M target rows copied, with their true labels, into the source.
- ``domain_gap`` s: s of the target rows come from the real shifted domain instead.
- ``label_shift`` t: the target is resampled from held-out source rows with class priors moved
  by total variation t (mass taken evenly from the other classes into class 0).
- ``missing_values`` r: r of the source rows lose 10% of their feature values (NaN).
- ``class_imbalance`` k: class 0 keeps a share of its rows so the largest class is k times it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from diagnosis_data import RealSet

FAULTS: dict[str, tuple[float, ...]] = {
    "label_noise": (0.05, 0.1, 0.2, 0.4),
    "duplicates": (0.01, 0.05, 0.1),
    "split_leakage": (0.01, 0.05, 0.1),
    "domain_gap": (0.1, 0.25, 0.5, 1.0),
    "label_shift": (0.1, 0.2, 0.3),
    "missing_values": (0.01, 0.05, 0.1),
    "class_imbalance": (3.0, 10.0, 30.0),
}
MAX_SOURCE = 2000
MAX_TARGET = 600


@dataclass
class Case:
    set: str
    seed: int
    fault: str  # "clean" for the twin
    strength: float
    xs: np.ndarray
    ys: np.ndarray
    xt: np.ndarray
    yt: np.ndarray  # the target's true labels (hidden from the label-free checks)
    planted: list[int] = field(default_factory=list)  # source rows that carry the fault

    @property
    def name(self) -> str:
        return f"{self.set}/{self.fault}/{self.strength:g}/seed{self.seed}"


def sizes(real: RealSet) -> tuple[int, int]:
    m = min(MAX_TARGET, len(real.xt), len(real.xs) // 3)
    return min(MAX_SOURCE, len(real.xs) - m), m


def clean_twin(real: RealSet, seed: int) -> tuple[Case, np.ndarray]:
    """The twin, and the held-out source rows not used by it (for resampled targets)."""
    rng = np.random.default_rng(seed)
    n, m = sizes(real)
    order = rng.permutation(len(real.xs))
    src, held = order[:n], order[n:]
    tgt = held[:m]
    case = Case(
        real.name, seed, "clean", 0.0, real.xs[src], real.ys[src], real.xs[tgt], real.ys[tgt]
    )
    return case, held


def plant(real: RealSet, seed: int, fault: str, strength: float) -> Case:
    base, held = clean_twin(real, seed)
    rng = np.random.default_rng(1000 + seed)
    xs, ys, xt, yt = base.xs.copy(), base.ys.copy(), base.xt.copy(), base.yt.copy()
    n, m = len(xs), len(xt)
    k = int(ys.max()) + 1
    planted: list[int] = []
    if fault == "label_noise":
        rows = rng.choice(n, round(strength * n), replace=False)
        ys[rows] = (ys[rows] + rng.integers(1, k, len(rows))) % k
        planted = sorted(int(i) for i in rows)
    elif fault == "duplicates":
        rows = rng.choice(n, max(1, round(strength * n)), replace=False)
        xs, ys = np.concatenate([xs, xs[rows]]), np.concatenate([ys, ys[rows]])
        planted = list(range(n, n + len(rows)))
    elif fault == "split_leakage":
        rows = rng.choice(m, max(1, round(strength * m)), replace=False)
        xs, ys = np.concatenate([xs, xt[rows]]), np.concatenate([ys, yt[rows]])
        planted = list(range(n, n + len(rows)))
    elif fault == "domain_gap":
        take = round(strength * m)
        rows = rng.choice(len(real.xt), take, replace=False)
        xt = np.concatenate([xt[: m - take], real.xt[rows]])
        yt = np.concatenate([yt[: m - take], real.yt[rows]])
    elif fault == "label_shift":
        xt, yt = _prior_shift(real, held, m, strength, rng)
    elif fault == "missing_values":
        rows = rng.choice(n, max(1, round(strength * n)), replace=False)
        cols = max(1, xs.shape[1] // 10)
        for r in rows:
            xs[r, rng.choice(xs.shape[1], cols, replace=False)] = np.nan
        planted = sorted(int(i) for i in rows)
    elif fault == "class_imbalance":
        counts = np.bincount(ys, minlength=k)
        keep_zero = max(2, int(counts.max() / strength))
        zeros = np.flatnonzero(ys == 0)
        drop = rng.choice(zeros, max(0, len(zeros) - keep_zero), replace=False)
        keep = np.setdiff1d(np.arange(n), drop)
        xs, ys = xs[keep], ys[keep]
    else:
        raise ValueError(f"unknown fault {fault!r}")
    return Case(real.name, seed, fault, strength, xs, ys, xt, yt, planted)


def _prior_shift(
    real: RealSet, held: np.ndarray, m: int, tv: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``m`` held-out source rows whose class priors are the source's moved by ``tv``."""
    y = real.ys[held]
    k = int(real.ys.max()) + 1
    p = np.bincount(real.ys, minlength=k) / len(real.ys)
    q = p.copy()
    moved = min(tv, 1.0 - p[0])
    others = np.arange(1, k)
    q[others] = np.maximum(0.0, p[others] - moved * p[others] / p[others].sum())
    q[0] = 1.0 - q[others].sum()
    avail = np.bincount(y, minlength=k)
    # no row twice (a repeat would plant duplicates too): the target shrinks instead
    m = min(m, int(min(avail[c] / q[c] for c in range(k) if q[c] > 0)))
    per = np.floor(q * m).astype(int)
    rows = []
    for c in range(k):
        rows.extend(rng.choice(held[y == c], per[c], replace=False))
    rows_a = rng.permutation(np.array(rows, dtype=np.int64))
    return real.xs[rows_a], real.ys[rows_a]


def cases(real: RealSet, seed: int) -> list[Case]:
    out = [clean_twin(real, seed)[0]]
    for fault, strengths in FAULTS.items():
        out += [plant(real, seed, fault, s) for s in strengths]
    return out
