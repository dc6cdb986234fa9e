"""``fit`` on tables and feature arrays through the ``mlp`` backbone: preprocessing (and feature
selection) fitted on the training split, saved with the run, reapplied by ``predict``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import domainfit
from domainfit.errors import ConfigError


def _table(path: Path, n: int = 200, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n) * 100.0  # very different scales
    colour = rng.choice(["red", "blue"], size=n)
    label = np.where(x1 + x2 / 100.0 + (colour == "red") > 0.5, "yes", "no")
    frame = pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "noise": rng.normal(size=n)})
    frame["label"] = label
    frame.loc[::17, "x1"] = np.nan  # the imputer must fill these
    frame.to_csv(path, index=False)
    return path


def test_fit_table_with_mlp_and_predict(tmp_path: Path) -> None:
    csv = _table(tmp_path / "t.csv")
    cfg = {
        "data": {"source": str(csv)},
        "model": {"backbone": "mlp:32"},
        "features": {"select": "mutual_info", "k": 3},
        "train": {"epochs": 30, "batch_size": 32, "lr": 1e-2, "schedule": "constant"},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert run.metrics["source.test.accuracy"] >= 0.85
    assert (run.dir / "model" / "preprocess.json").is_file()
    assert (run.dir / "model" / "features.json").is_file()
    preds = domainfit.predict(run.dir, str(csv), out=tmp_path / "p.csv")
    truth = pd.read_csv(csv)["label"]
    assert (preds["prediction"] == truth).mean() >= 0.85


def test_fit_office_surf_features(tmp_path: Path, shared_data: Path) -> None:
    """Real SURF features (Office-Caltech10 amazon, 10 classes): well above chance (0.1)."""
    cfg = {
        "data": {"source": "office-caltech-surf:amazon"},
        "model": {"backbone": "mlp:128"},
        "split": {"method": "stratified"},
        "train": {"epochs": 15, "batch_size": 32, "lr": 1e-3},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert run.metrics["source.test.accuracy"] >= 0.6


def test_mlp_on_text_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text("text,label\n" + "".join(f"word {i},{i % 2}\n" for i in range(40)))
    cfg = {"data": {"source": str(csv)}, "model": {"backbone": "mlp"}}
    with pytest.raises(ConfigError, match="reads tables or feature arrays"):
        domainfit.fit(cfg, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_bad_mlp_widths(tmp_path: Path) -> None:
    csv = _table(tmp_path / "t.csv")
    cfg = {"data": {"source": str(csv)}, "model": {"backbone": "mlp:big"}}
    with pytest.raises(ConfigError, match="not a list of layer widths"):
        domainfit.fit(cfg, out=tmp_path / "run")


def test_inspect_plans_an_mlp_on_a_table(tmp_path: Path) -> None:
    """inspect builds the same model as fit, so the mlp's input width comes from the table."""
    csv = _table(tmp_path / "t.csv")
    cfg = {
        "data": {"source": str(csv)},
        "model": {"backbone": "mlp:16"},
        "strategy": {"name": "two_stage", "head_epochs": 1},
        "train": {"epochs": 3},
    }
    plan = domainfit.inspect(cfg)
    assert plan[-1]["group"] == "head"
    assert plan[0]["epochs"][0] is None  # the body waits for the head's epoch
    assert plan[0]["epochs"][1] is not None
    # x1, x2, noise and the one-hot colour: 3 + 2 inputs into a 16-unit layer (+16 biases)
    assert plan[0]["params"] == 5 * 16 + 16
