"""Sweeps that were killed and run again (issue 24): no parameter set twice, no trial or MLflow
run left RUNNING for a dead worker, no worker outliving its sweep, no worker log truncated."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml

import domainfit
from domainfit.errors import ConfigError
from domainfit.search import procs
from domainfit.search import storage as st


def _table(path: Path, n: int, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) + shift
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(4)])
    frame["label"] = np.where(x[:, 0] - shift + 0.5 * x[:, 1] > 0, "yes", "no")
    frame.to_csv(path, index=False)


def _config(tmp_path: Path, params: dict[str, Any], **sweep: Any) -> dict[str, Any]:
    _table(tmp_path / "src.csv", 160, 0.0, 0)
    _table(tmp_path / "tgt.csv", 120, 0.7, 1)
    return {
        "name": "tiny",
        "data": {"source": str(tmp_path / "src.csv"), "target": str(tmp_path / "tgt.csv")},
        "model": {"backbone": "mlp:8"},
        "train": {"epochs": 1, "batch_size": 32, "lr": 1e-2},
        "track": {"enabled": False},
        "sweep": {"metric": "target_val.accuracy", "pruner": "none", "params": params, **sweep},
    }


def _tracked(cfg: dict[str, Any], tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg["track"] = {"enabled": True, "uri": uri, "experiment": "sweeps"}
    return uri


def _ran(out: Path) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name="tiny", storage=st.default_storage(out))
    return [t for t in study.get_trials() if st.counted(t)]


def _sweep(cfg: dict[str, Any], out: Path, **kwargs: Any) -> Any:
    return domainfit.sweep(cfg, out=out, quiet=True, **kwargs)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- 1: a restart does not replay the parameter sets of the run before it -------------------


def test_a_restarted_sweep_runs_no_parameter_set_twice(tmp_path: Path) -> None:
    lr = {"train.lr": {"log_uniform": [1e-3, 1e-1]}}
    cfg = _config(tmp_path, lr, sampler="random")
    out = tmp_path / "sweep"
    _sweep(cfg, out, trials=2)
    _sweep(cfg, out, trials=4)  # the same sweep, restarted with a larger budget
    sets = [t.params["train.lr"] for t in _ran(out)]
    assert len(sets) == 4 and len(set(sets)) == 4, sets


def test_a_finite_space_stops_with_a_warning_once_every_set_was_tried(tmp_path: Path) -> None:
    space = {"strategy.name": {"choice": ["full", "linear_probe"]}, "train.lr": {"choice": [0.01]}}
    cfg = _config(tmp_path, space, sampler="random")
    out = tmp_path / "sweep"
    _sweep(cfg, out, trials=1)
    with pytest.warns(UserWarning, match="all 2 parameter sets .* stops after 2 of 4 trials"):
        result = _sweep(cfg, out, trials=4)
    assert result.counts["complete"] == 2
    assert sorted(t.params["strategy.name"] for t in _ran(out)) == ["full", "linear_probe"]


# -- 2: trials of dead workers are closed in Optuna and in MLflow ---------------------------


def test_a_dead_workers_trial_and_mlflow_run_are_closed_nested_on_restart(
    tmp_path: Path,
) -> None:
    from mlflow.tracking import MlflowClient

    cfg = _config(tmp_path, {"train.lr": {"log_uniform": [1e-3, 1e-1]}}, sampler="random")
    uri = _tracked(cfg, tmp_path)
    out = tmp_path / "sweep"
    _sweep(cfg, out, trials=1)
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("sweeps").experiment_id
    parent = next(r for r in client.search_runs([exp]) if r.info.run_name == "tiny-sweep")
    # a worker killed mid-trial: its trial RUNNING under a dead pid, its run top-level and
    # RUNNING (as the Tracker made it), its folder half-written
    study = optuna.load_study(study_name="tiny", storage=st.default_storage(out))
    dead = study.ask()
    dead.suggest_float("train.lr", 1e-3, 1e-1, log=True)
    dead.set_user_attr(st.WORKER_ATTR, {"host": socket.gethostname(), "pid": _dead_pid()})
    run_dir = out / "trials" / f"trial-{dead.number:04d}"
    run_dir.mkdir(parents=True)
    dead.set_user_attr(st.RUN_DIR_ATTR, str(run_dir))
    orphan_run = client.create_run(exp, run_name="tiny-trial-dead").info.run_id
    (run_dir / "mlflow_run_id").write_text(orphan_run + "\n")
    # a trial another host's heartbeat failed: its run nested and tagged, but RUNNING
    stale = study.ask()
    stale_run = client.create_run(
        exp, tags={"mlflow.parentRunId": parent.info.run_id, "sweep.trial": str(stale.number)}
    ).info.run_id
    study.tell(stale, state=optuna.trial.TrialState.FAIL)

    _sweep(cfg, out, trials=2)

    assert study.get_trials()[dead.number].state == optuna.trial.TrialState.FAIL
    for run_id in (orphan_run, stale_run):
        run = client.get_run(run_id)
        assert run.info.status == "KILLED"
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
    children = client.search_runs(
        [exp], filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    assert not [r for r in children if r.info.status == "RUNNING"]


def test_a_requeued_trial_is_not_taken_for_its_dead_predecessor(tmp_path: Path) -> None:
    """The copy queued for a dead worker's trial starts unclaimed: a copy that kept the dead
    worker's record was failed by another worker while a live one was starting it."""
    storage = st.open_storage(st.default_storage(tmp_path))
    study = optuna.create_study(storage=storage, study_name="s")
    dead = study.ask()
    dead.suggest_float("train.lr", 1e-3, 1e-1, log=True)
    dead.set_user_attr(st.WORKER_ATTR, {"host": socket.gethostname(), "pid": _dead_pid()})
    dead.set_user_attr(st.RUN_DIR_ATTR, str(tmp_path / "trial-0000"))
    assert st.recover_local(study, storage) == [dead.number]
    again = study.ask()  # a live worker takes the copy, not yet claimed
    assert again.params == dead.params and again.user_attrs == {}
    assert st.recover_local(study, storage) == []  # left to the worker starting it


# -- 3: workers die with their sweep; a rerun waits for them and appends to their logs ------


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")  # a zombie has exited


def _worker_pids(db: Path) -> set[int]:
    """Pids of the workers that claimed a RUNNING trial and started training it."""
    if not db.is_file():
        return set()
    sql = (
        "select a.value_json from trials t join trial_user_attributes a on a.trial_id = "
        "t.trial_id where t.state = 'RUNNING' and a.key = 'worker' and exists (select 1 from "
        "trial_user_attributes r where r.trial_id = t.trial_id and r.key = 'run_dir')"
    )
    try:
        with sqlite3.connect(db, timeout=30) as con:
            rows = con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return set()  # tables not created yet
    return {int(yaml.safe_load(v)["pid"]) for (v,) in rows}


def _open_runs(uri: str) -> int:
    """MLflow runs still RUNNING (the sweep's own among them)."""
    db = Path(uri.removeprefix("sqlite:///"))
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(db, timeout=30) as con:
            return int(
                con.execute("select count(*) from runs where status = 'RUNNING'").fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0  # tables not created yet


def test_killed_sweep_takes_its_workers_and_the_rerun_appends_to_their_logs(
    tmp_path: Path,
) -> None:
    from mlflow.tracking import MlflowClient

    cfg = _config(tmp_path, {"train.lr": {"log_uniform": [1e-3, 1e-1]}}, sampler="random")
    cfg["train"]["epochs"] = 40  # seconds: long enough to be killed mid-trial
    uri = _tracked(cfg, tmp_path)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "domainfit", "sweep", str(config), "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DOMAINFIT_QUIET": "1"}
    proc = subprocess.Popen([*cmd, "--workers", "2", "--trials", "2"], env=env)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # both workers training, their runs open
            assert proc.poll() is None, "the sweep ended before it could be killed"
            workers = _worker_pids(out / "study.db")
            if len(workers) == 2 and _open_runs(uri) == 3:
                break
            time.sleep(0.2)
        else:
            pytest.fail("two workers were not training within 240 s")
        proc.kill()  # SIGKILL: no handler of the sweep runs
        proc.wait()
        gone = time.monotonic() + 5
        while any(_alive(p) for p in workers) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)], "workers outlived their sweep"
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

    result = _sweep(cfg, out, workers=2, trials=2)
    assert result.counts["complete"] == 2
    for k in range(2):
        text = (out / "workers" / f"worker-{k}.log").read_bytes()
        assert b"\0" not in text
        assert text.count(f"worker {k} started".encode()) == 2  # one header per start
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("sweeps").experiment_id
    runs = client.search_runs([exp])
    parent = next(r for r in runs if r.info.run_name == "tiny-sweep")
    trials = [r for r in runs if r.info.run_id != parent.info.run_id]
    assert len(trials) == 4  # two killed with their workers, two finished by the rerun
    assert {r.data.tags.get("mlflow.parentRunId") for r in trials} == {parent.info.run_id}
    assert sorted(r.info.status for r in trials) == ["FINISHED", "FINISHED", "KILLED", "KILLED"]


def test_a_sweep_that_is_still_running_is_not_started_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config(tmp_path, {"train.lr": {"log_uniform": [1e-3, 1e-1]}}, sampler="random")
    out = tmp_path / "sweep"
    _sweep(cfg, out, trials=1)
    monkeypatch.setattr(procs, "WAIT_S", 0.5)
    refused = f"sweep {re.escape(str(out))} is already running .*pids {os.getpid()}"
    # the first run, or a worker it left, still alive
    with procs.SweepLock(out), pytest.raises(ConfigError, match=refused):
        _sweep(cfg, out, trials=2)
    assert len(_ran(out)) == 1  # nothing ran beside it
    assert _sweep(cfg, out, trials=2).counts["complete"] == 2  # once it is gone, the sweep resumes
