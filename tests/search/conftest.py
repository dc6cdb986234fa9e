"""A tiny two-domain table task whose sweeps take seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest


def _table(path: Path, n: int, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) + shift
    y = np.where(x[:, 0] - shift + 0.5 * x[:, 1] > 0, "yes", "no")
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(4)])
    frame["label"] = y
    frame.to_csv(path, index=False)


@pytest.fixture
def sweep_config(tmp_path: Path) -> dict[str, Any]:
    """Source and shifted target tables (both labelled) and a config with a small space."""
    _table(tmp_path / "src.csv", 240, 0.0, 0)
    _table(tmp_path / "tgt.csv", 200, 0.7, 1)
    return {
        "name": "tiny",
        "data": {"source": str(tmp_path / "src.csv"), "target": str(tmp_path / "tgt.csv")},
        "model": {"backbone": "mlp:16"},
        "train": {"epochs": 4, "batch_size": 32, "lr": 1e-2},
        "track": {"enabled": False},
        "sweep": {
            "metric": "target_val.accuracy",
            "trials": 4,
            "startup_trials": 2,
            "params": {
                "train.lr": {"log_uniform": [1e-3, 1e-1]},
                "strategy.name": {"choice": ["full", "linear_probe"]},
                "train.weight_decay": {"uniform": [0.0, 0.1], "when": {"strategy.name": "full"}},
            },
        },
    }
