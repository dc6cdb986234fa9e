"""Budget parsing, the clock's calibration, and the trainer's deadline (train.max_seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import domainfit
from domainfit.auto.budget import MIN_BUDGET, Calibration, Clock, duration, parse_budget
from domainfit.errors import ConfigError
from tests.auto.conftest import write_domain


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("90s", 90),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("120", 120),
        (" 2m 30s ", 150),
        ("1H", 3600),
        (75, 75),
    ],
)
def test_parse_budget(text: str | int, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["soon", "30", "10s", "", "5x", "30m1h", "1m1m", "-5m", "m"])
def test_bad_budgets_are_refused(text: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_budget(text)
    assert "--budget" in err.value.line()


def test_minimum_is_a_minute() -> None:
    assert parse_budget("1m") == MIN_BUDGET
    with pytest.raises(ConfigError, match="under the minimum"):
        parse_budget("59s")


def test_duration_and_clock() -> None:
    assert [duration(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]
    clock = Clock(100.0, spent_before=40.0)
    assert 59.0 < clock.left() <= 60.0


def test_calibration_is_the_median_ratio() -> None:
    calib = Calibration()
    assert calib.factor == 1.0
    for est, took in ((10, 20), (10, 30), (10, 200)):  # one outlier does not swing it
        calib.add(est, took)
    assert calib.factor == 3.0


def test_max_seconds_stops_training_and_keeps_the_best_model(tmp_path: Path) -> None:
    src = write_domain(tmp_path / "src.npz")
    cfg = {
        "data": {"source": str(src)},
        "model": {"backbone": "mlp:16"},
        "train": {"epochs": 500, "lr": 1e-3, "max_seconds": 0.5},
        "track": {"enabled": False, "report": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert 1 <= len(run.history) < 500
    assert json.loads((run.dir / "run.json").read_text())["stopped"] == "train.max_seconds"
    assert (run.dir / "model" / "model.safetensors").is_file()
    assert "source.test.accuracy" in run.metrics
