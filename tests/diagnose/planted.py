"""Small generated domains with one planted fault each, and their clean twins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

D = 8


def blobs(
    n: int = 600, seed: int = 0, shift: float = 0.0, priors: tuple[float, float] = (0.5, 0.5)
) -> pd.DataFrame:
    """Two classes a linear model separates at ~97%: means +-1.5 on the first two features,
    unit noise everywhere; ``shift`` moves every feature of both classes (covariate shift)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < priors[1]).astype(int)
    x = rng.normal(size=(n, D))
    x[:, :2] += np.where(y[:, None] == 1, 1.5, -1.5)
    x += shift
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(D)])
    frame["label"] = y
    return frame


def flip_labels(frame: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    out = frame.copy()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(out), int(share * len(out)), replace=False)
    out.loc[rows, "label"] = 1 - out.loc[rows, "label"]
    return out


def leak(frame: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    """Repeat ``share`` of the rows: random splits then put copies on both sides."""
    rng = np.random.default_rng(seed)
    copies = frame.iloc[rng.choice(len(frame), int(share * len(frame)), replace=False)]
    return pd.concat([frame, copies], ignore_index=True).sample(frac=1.0, random_state=seed)


def with_missing(frame: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    out = frame.copy()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(out), int(share * len(out)), replace=False)
    out.loc[rows, "f3"] = np.nan
    return out


def write(frame: pd.DataFrame, path: Path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def config(source: str, target: str | None = None, **train: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"source": source}
    if target is not None:
        data["target"] = target
    return {
        "name": "planted",
        "data": data,
        "split": {"method": "stratified", "train": 0.7, "val": 0.15, "test": 0.15},
        "preprocess": {"scaler": "standard", "impute": "median"},
        "model": {"backbone": "mlp:32", "head": {"dropout": 0.0}},
        "train": {
            "epochs": 10,
            "batch_size": 32,
            "lr": 1e-2,
            "optimizer": "adamw",
            "schedule": "constant",
            **train,
        },
        "track": {"enabled": False},
    }


def batch_losses(
    steps: int = 600, batch: int = 16, seed: int = 0, wrong: float = 0.05
) -> list[float]:
    """A healthy per-step loss: each of ``batch`` samples is right (loss ~ Exp, shrinking as
    training goes) or wrong (0.7 + Exp(1.5): confidently misclassified), with the error rate
    falling from 50% to ``wrong``. Small batches then jump whenever one holds a wrong sample."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(steps):
        decay = np.exp(-t / (steps / 4))
        right = rng.random(batch) >= wrong + (0.5 - wrong) * decay
        easy = rng.exponential(0.05 + 0.55 * decay, batch)
        hard = 0.7 + rng.exponential(1.5, batch)
        out.append(float(np.where(right, easy, hard).mean()))
    return out


def blow_ups(losses: list[float], start: int = 200, every: int = 60) -> list[float]:
    """Every ``every`` steps from ``start`` the weights are knocked off: the loss jumps by 2 and
    takes some 20 steps to come back, as after an oversized update."""
    out = list(losses)
    for s in range(start, len(out), every):
        for k in range(min(25, len(out) - s)):
            out[s + k] += 2.0 * float(np.exp(-k / 8))
    return out


def diverging(losses: list[float], start: int = 300, steps_per_e: int = 120) -> list[float]:
    """From ``start`` the loss grows exponentially (e-fold every ``steps_per_e`` steps)."""
    return [v * float(np.exp(max(0, t - start) / steps_per_e)) for t, v in enumerate(losses)]
