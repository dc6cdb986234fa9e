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
