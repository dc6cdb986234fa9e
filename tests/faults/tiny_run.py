"""Runs small enough to train in a second: an ``mlp`` on a 48-row table, and a way to stop
one after its n-th checkpoint as a kill would."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import domainfit
from domainfit.train import trainer


class Killed(Exception):  # noqa: N818 -- what it stands for
    """Stands for a kill right after a checkpoint was written."""


def table(path: Path, n: int = 48) -> Path:
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "label": np.where(x1 + x2 > 0, "yes", "no")})
    frame.to_csv(path, index=False)
    return path


def config(tmp: Path, **train: Any) -> dict[str, Any]:
    """Two epochs of 5 optimizer steps (34 training rows in batches of 8), a checkpoint at each
    step: steps 5 and 10 end an epoch too, so each is saved twice (12 saves in all)."""
    csv = tmp / "t.csv"
    if not csv.is_file():
        table(csv)
    return {
        "name": "tiny",
        "data": {"source": str(csv)},
        "model": {"backbone": "mlp:8"},
        "train": {
            "epochs": 2,
            "batch_size": 8,
            "lr": 1e-2,
            "schedule": "constant",
            "checkpoint_every_steps": 1,
            "keep_checkpoints": 2,
            **train,
        },
        "track": {"enabled": False, "report": False},
    }


def write_config(tmp: Path, cfg: dict[str, Any], name: str = "tiny.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(cfg))
    return path


@contextmanager
def killed_after(monkeypatch: pytest.MonkeyPatch, saves: int) -> Iterator[None]:
    """The run stops (``Killed``) right after its ``saves``-th checkpoint."""
    real = trainer.save_checkpoint
    done = [0]

    def save(*args: Any, **kwargs: Any) -> Path:
        path = real(*args, **kwargs)
        done[0] += 1
        if done[0] == saves:
            raise Killed(path.name)
        return path

    with monkeypatch.context() as m:
        m.setattr(trainer, "save_checkpoint", save)
        with pytest.raises(Killed):
            yield


def stopped_run(
    monkeypatch: pytest.MonkeyPatch, cfg: dict[str, Any], out: Path, saves: int
) -> Path:
    with killed_after(monkeypatch, saves):
        domainfit.fit(cfg, out=out)
    return out


def no_data_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading data fails the test: what a resume refuses, it refuses before that."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("data was loaded")

    fit_module = importlib.import_module("domainfit.fit")  # ``domainfit.fit`` is the function
    monkeypatch.setattr(fit_module, "prepare_data", refuse)
    monkeypatch.setattr(fit_module, "build_session", refuse)
