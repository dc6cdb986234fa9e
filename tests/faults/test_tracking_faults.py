"""Issue 24, "Tracking and run folders": runs started together share a fresh MLflow store and
the default run folder name without tripping over each other."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import domainfit
from domainfit.api import default_run_dir
from domainfit.config import TrackConfig
from domainfit.errors import ConfigError
from domainfit.run_dirs import claim_run_dir, free_run_dir, release_run_dir, stamped

# Each child imports everything first and waits for the go file, so the three reach the
# store's creation within milliseconds of each other: the race the lock must make harmless.
_CHILD = """
import sys, time
from pathlib import Path
from domainfit.config import TrackConfig
from domainfit.track.mlflow_tracker import Tracker
import mlflow, sqlalchemy, alembic

uri, run_dir, ready, go = sys.argv[1:5]
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.005)
tracker = Tracker(TrackConfig(uri=uri, experiment="together"), Path(run_dir), Path(run_dir).name)
tracker.finish({"x": 1.0})
"""


def test_three_trackers_create_one_fresh_store_together(tmp_path: Path) -> None:
    db = tmp_path / "runs" / "mlflow.db"  # neither the folder nor the file exists yet
    uri = f"sqlite:///{db}"
    go = tmp_path / "go"
    procs = []
    for i in range(3):
        run_dir = tmp_path / f"run{i}"
        run_dir.mkdir()
        args = [uri, str(run_dir), str(tmp_path / f"ready{i}"), str(go)]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _CHILD, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
        )
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{i}").exists() for i in range(3)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), [
            p.communicate()[0] for p in procs if p.poll() is not None
        ]
        time.sleep(0.02)
    go.touch()
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(outputs)

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    experiments = [e for e in client.search_experiments() if e.name == "together"]
    assert len(experiments) == 1
    runs = client.search_runs([experiments[0].experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["run0", "run1", "run2"]
    assert all(r.info.status == "FINISHED" for r in runs)


def _half_migrated(path: Path) -> None:
    """What an interrupted migration leaves: alembic's bookkeeping at an early revision and one
    table already in a later revision's shape."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    con.execute("INSERT INTO alembic_version VALUES ('451aebb31d03')")
    con.execute(
        "CREATE TABLE metrics (key VARCHAR(250), value FLOAT, timestamp BIGINT, "
        "run_uuid VARCHAR(32), step BIGINT)"
    )
    con.commit()
    con.close()


def test_half_migrated_store_is_one_line_naming_the_file(tmp_path: Path) -> None:
    from domainfit.track.mlflow_tracker import Tracker

    db = tmp_path / "mlflow.db"
    _half_migrated(db)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with pytest.raises(ConfigError) as caught:
        Tracker(TrackConfig(uri=f"sqlite:///{db}", experiment="e"), run_dir, "r")
    line = caught.value.line()
    assert "\n" not in line
    assert f"MLflow store {db}" in line
    assert f"mv {db} {db}.bad" in line and "move it aside" in line
    assert db.is_file()  # the user decides what happens to it


def test_default_run_dirs_in_the_same_second_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("domainfit.run_dirs.time.strftime", lambda fmt: "20250101-120000")
    first = claim_run_dir(stamped("demo"), unique=True)
    second = claim_run_dir(stamped("demo"), unique=True)
    assert first == Path("runs/demo-20250101-120000")
    assert second == Path("runs/demo-20250101-120000-2")
    assert first.is_dir() and second.is_dir()
    # the default name skips a taken folder before anything is reserved
    assert default_run_dir("demo") == Path("runs/demo-20250101-120000-3")


def test_a_taken_folder_gets_a_suffix_and_a_named_one_is_refused(tmp_path: Path) -> None:
    taken = tmp_path / "runs" / "x-1"
    (taken.with_name("x-1-2")).mkdir(parents=True)
    taken.mkdir()
    assert free_run_dir(taken) == taken.with_name("x-1-3")
    assert claim_run_dir(taken, unique=True) == taken.with_name("x-1-3")
    with pytest.raises(ConfigError, match="already exists; choose another --out"):
        claim_run_dir(taken, unique=False)
    release_run_dir(taken.with_name("x-1-3"))  # empty: a failed start leaves nothing behind
    assert not taken.with_name("x-1-3").exists()


def test_two_default_fits_in_the_same_second_both_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("domainfit.run_dirs.time.strftime", lambda fmt: "20250101-120000")
    rows = [{"a": i % 7, "b": (i * 3) % 5, "label": i % 2} for i in range(40)]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    cfg = {
        "name": "same",
        "data": {"source": str(tmp_path / "t.csv")},
        "model": {"backbone": "mlp:4"},
        "train": {"epochs": 1, "batch_size": 16},
        "track": {"enabled": False},
    }
    a = domainfit.fit(cfg)
    b = domainfit.fit(cfg)  # the same name and second: it moves on instead of failing late
    assert a.dir == Path("runs/same-20250101-120000")
    assert b.dir == Path("runs/same-20250101-120000-2")
    assert (a.dir / "config.yaml").is_file() and (b.dir / "config.yaml").is_file()
