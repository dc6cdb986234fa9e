"""Tiny synthetic domains and a short plan, so a whole ``auto`` run takes seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from domainfit.auto import priors, search_step


def write_domain(path: Path, n: int = 200, shift: float = 0.0, seed: int = 0) -> Path:
    """Two classes of 8-d features, separable; ``shift`` moves the whole domain."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 8)) + 1.5 * y[:, None] + shift
    np.savez(path, X=x.astype("float32"), y=y)
    return path


@pytest.fixture
def domains(tmp_path: Path) -> tuple[Path, Path]:
    return write_domain(tmp_path / "src.npz"), write_domain(tmp_path / "tgt.npz", 200, 0.7, 1)


@pytest.fixture
def short_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two mlp candidates of 2 epochs and one adaptation method: the real loop, fewer steps."""
    monkeypatch.setattr(
        priors,
        "MLP",
        (
            priors.Recipe("full", None, {"epochs": 2, "lr": 1e-3}, label="full lr1e-3"),
            priors.Recipe("full", None, {"epochs": 2, "lr": 1e-2}, label="full lr1e-2"),
        ),
    )
    monkeypatch.setattr(priors, "ADAPT_METHODS", ("mmd",))
    # the Hyperband step has tests of its own (test_search_step.py): here it is always skipped
    monkeypatch.setattr(search_step, "MIN_TRIALS", 10**6)


# no MLflow, no report.html per step (auto.html sums them up): seconds saved per step
NO_TRACKING = ["track.enabled=false", "track.report=false"]
SETS = [a for o in NO_TRACKING for a in ("--set", o)]
