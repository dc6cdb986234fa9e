"""split.method=kfold: one child run per fold, aggregated; an interrupted k-fold run resumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import domainfit
from tests.test_fit_features import _table


def test_kfold_runs_every_fold_and_aggregates(tmp_path: Path) -> None:
    cfg = {
        "name": "cv",
        "data": {"source": str(_table(tmp_path / "t.csv", n=150))},
        "model": {"backbone": "mlp:16"},
        "split": {"method": "kfold", "k": 3, "val": 0.2},
        "train": {"epochs": 8, "batch_size": 16, "lr": 1e-2, "schedule": "constant"},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    cv = json.loads((run.dir / "cv.json").read_text())
    assert cv["k"] == 3 and [f["dir"] for f in cv["folds"]] == [
        "folds/fold-0",
        "folds/fold-1",
        "folds/fold-2",
    ]
    accs = []
    tested: set[str] = set()
    for i in range(3):
        child = run.dir / "folds" / f"fold-{i}"
        metrics = json.loads((child / "metrics.json").read_text())
        accs.append(metrics["source.test.accuracy"])
        ids = (child / "predictions" / "source.test.csv").read_text().splitlines()[1:]
        fold_ids = {line.split(",")[0] for line in ids}
        assert not tested & fold_ids  # each sample is tested in exactly one fold
        tested |= fold_ids
    assert len(tested) == 150
    assert run.metrics["source.test.accuracy"] == pytest.approx(np.mean(accs))
    assert run.metrics["source.test.accuracy.std"] == pytest.approx(np.std(accs, ddof=1))
    assert run.metrics["source.test.accuracy"] > 0.7

    # fold 2 lost (as if killed before it began): resume reruns it alone, with the same result
    before = (run.dir / "folds" / "fold-0" / "metrics.json").stat().st_mtime_ns
    shutil.rmtree(run.dir / "folds" / "fold-2")
    again = domainfit.fit(resume=run.dir)
    assert (run.dir / "folds" / "fold-0" / "metrics.json").stat().st_mtime_ns == before
    assert again.metrics == pytest.approx(run.metrics)
