"""Sweeps across processes: SIGKILL and resume, local workers, and a PostgreSQL study shared
by separate sweep commands (as on separate machines)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

import domainfit


def _write(cfg: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "DOMAINFIT_QUIET": "1"}


def _sweep_cmd(config: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "domainfit", "sweep", str(config), "--out", str(out), *extra]


def _query(db: Path, sql: str) -> list[Any]:
    """Rows of ``sql``; none while the sweep has not created its tables yet."""
    if not db.is_file():
        return []
    try:
        with sqlite3.connect(db, timeout=30) as con:
            return con.execute(sql).fetchall()
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            return []
        raise


def _states(db: Path) -> list[tuple[int, str]]:
    return _query(db, "select number, state from trials order by number")


def _training(db: Path) -> list[int]:
    """Numbers of the RUNNING trials a worker has claimed (so their parameters are drawn)."""
    rows = _query(
        db,
        "select t.number from trials t join trial_user_attributes a "
        "on a.trial_id = t.trial_id where t.state = 'RUNNING' and a.key = 'run_dir'",
    )
    return [n for (n,) in rows]


def test_sigkilled_sweep_resumes_without_lost_or_duplicated_trials(
    sweep_config: dict[str, Any], tmp_path: Path
) -> None:
    sweep_config["train"]["epochs"] = 40  # a few seconds per trial: time to kill one midway
    sweep_config["sweep"].update(pruner="none", trials=4)
    config = _write(sweep_config, tmp_path / "c.yaml")
    out = tmp_path / "sweep"
    proc = subprocess.Popen(_sweep_cmd(config, out), env=_env(), start_new_session=True)
    db = out / "study.db"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:  # one trial done and the next one training
            states = _states(db)
            if any(s == "COMPLETE" for _, s in states) and _training(db):
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.2)
        else:
            pytest.fail("no trial was running within 300 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed = _training(db)[0]

    result = domainfit.sweep(config, out=out, quiet=True)  # the same command again
    assert sum(result.counts.values()) == 4

    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{db}")
    trials = study.get_trials()
    interrupted = trials[killed]
    assert interrupted.state == optuna.trial.TrialState.FAIL
    assert "fail_reason" not in interrupted.user_attrs  # not counted as a finished trial
    retry = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retry) == 1 and retry[0].params == interrupted.params
    assert retry[0].state == optuna.trial.TrialState.COMPLETE
    finished = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(finished) == 4
    # one run folder per finished trial; the killed trial's half-written one is gone
    folders = sorted(p.name for p in (out / "trials").iterdir())
    assert folders == sorted(f"trial-{t.number:04d}" for t in finished)


def test_local_workers_share_one_study_and_run_exactly_the_budget(
    sweep_config: dict[str, Any], tmp_path: Path
) -> None:
    sweep_config["sweep"].update(trials=4)
    config = _write(sweep_config, tmp_path / "c.yaml")
    out = tmp_path / "sweep"
    result = domainfit.sweep(config, out=out, workers=2, quiet=True)
    assert sum(result.counts[s] for s in ("complete", "pruned", "failed")) == 4
    assert sorted(p.name for p in (out / "workers").iterdir()) == ["worker-0.log", "worker-1.log"]
    rows = json.loads((out / "trials.json").read_text())["trials"]
    assert len({r["trial"] for r in rows}) == 4
    assert len(list((out / "trials").iterdir())) == 4


# -- PostgreSQL: a real server on 127.0.0.1, started for this test --------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries not installed (apt install postgresql)")
    pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]'")
    # the server refuses to run as root: run it as the postgres user then
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser to start PostgreSQL as another user")
        as_user = ["runuser", "-u", "postgres", "--"]
    # its own folder outside pytest's (root-only) tmp tree, so the postgres user can enter it
    home = Path(tempfile.mkdtemp(prefix="domainfit-pg-"))
    data = home / "data"
    if as_user:
        shutil.chown(home, "postgres")
    port = _free_port()
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -c listen_addresses=127.0.0.1 -k {home}"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", opts, "-w", "start", "-l", str(data / "log")],
        check=True,
        capture_output=True,
    )
    try:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        ) as con:
            con.execute("create database sweeps")
        yield f"postgresql://postgres@127.0.0.1:{port}/sweeps"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.postgres
def test_two_sweep_commands_on_one_postgres_study_split_the_budget(
    sweep_config: dict[str, Any], tmp_path: Path, postgres_url: str
) -> None:
    """Two ``domainfit sweep`` commands with their own folders (two machines) and one database
    URL run one study: together exactly the budget, each trial once."""
    config = _write(sweep_config, tmp_path / "c.yaml")
    cmds = [
        _sweep_cmd(config, tmp_path / f"machine-{k}", "--storage", postgres_url, "--trials", "6")
        for k in range(2)
    ]
    procs = [
        subprocess.Popen(c, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for c in cmds
    ]
    outputs = [p.communicate(timeout=600)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    study = optuna.load_study(study_name="tiny", storage=postgres_url)
    done = [t for t in study.get_trials() if t.state.is_finished() and t.state.name != "FAIL"]
    assert len(done) == 6
    ran_on = {
        Path(t.user_attrs["run_dir"]).parent.parent.name for t in done
    }  # which machine's folder each trial ran in
    assert ran_on <= {"machine-0", "machine-1"}
    for k in range(2):
        summary = json.loads((tmp_path / f"machine-{k}" / "trials.json").read_text())
        assert sum(summary["counts"][s] for s in ("complete", "pruned", "failed")) == 6
