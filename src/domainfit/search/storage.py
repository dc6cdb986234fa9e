"""Where a sweep's study lives (SQLite in its folder, or any database URL Optuna's RDB storage
takes, e.g. PostgreSQL shared by many machines) and how interrupted trials are recovered.

A trial whose worker died (SIGKILL, a lost machine) stays RUNNING in the database. Two ways
bring it back: on this host, a trial whose worker process is gone is failed and re-queued at
once; on other hosts, Optuna's heartbeat fails it after ``GRACE_S`` without a beat. Either way
the re-queued copy runs the same parameters, and the interrupted trial is not counted, so a
resumed sweep loses no trial and runs none twice.

A worker killed between asking for a trial and claiming it (milliseconds: the trial exists,
RUNNING, with no worker and no parameters yet) leaves an orphan no heartbeat may ever cover;
after ``ORPHAN_S`` without a worker it is failed by whichever worker looks next, and it is
neither counted nor re-queued (nothing of it ran).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import shutil
import socket
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from domainfit.errors import ConfigError
from domainfit.search.procs import alive

HEARTBEAT_S = 10
GRACE_S = 60
ORPHAN_S = 15  # a RUNNING trial without a worker this long after its start was never claimed
WORKER_ATTR = "worker"  # {"host", "pid"} of the process running the trial
REASON_ATTR = "fail_reason"  # set by the objective: a failure that counts as a finished trial
SURPLUS_ATTR = "surplus"  # asked for after the budget was full; never ran
RUN_DIR_ATTR = "run_dir"


def default_storage(out_dir: Path) -> str:
    return f"sqlite:///{(out_dir / 'study.db').resolve()}"


def open_storage(url: str) -> RDBStorage:
    sqlite = url.startswith("sqlite")
    # SQLite serialises writers: several local workers wait for the lock instead of failing
    kwargs: dict[str, Any] = (
        {"connect_args": {"timeout": 120}} if sqlite else {"pool_pre_ping": True}
    )
    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna's terms
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return _rdb(url, kwargs)
        except ImportError:
            raise ConfigError(
                f"no database driver for --storage {url.split('://')[0]}://...",
                "pip install 'domainfit[postgres]' (psycopg) or the driver SQLAlchemy names",
            ) from None


def check_storage(url: str) -> None:
    from sqlalchemy.exc import ArgumentError, OperationalError

    try:
        open_storage(url).remove_session()
    except ArgumentError:
        raise ConfigError(
            f"--storage {url} is not a database URL",
            "e.g. sqlite:///sweep.db or postgresql://user:password@host:5432/db",
        ) from None
    except OperationalError as err:
        first = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        raise ConfigError(
            f"cannot open --storage {url}: {first}", "check the host, port, user and database"
        ) from None


def _rdb(url: str, kwargs: dict[str, Any]) -> RDBStorage:
    """Several workers opening a fresh database at once all create its tables; on PostgreSQL
    the losers of that race get a unique violation (on the catalogue or on Optuna's version
    row), or "type studydirection already exists" when both create Optuna's enum types. The
    tables exist after it, so trying again after a short random wait succeeds."""
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(5):
        try:
            return RDBStorage(
                url,
                engine_kwargs=kwargs,
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                heartbeat_stale_trial_callback=_retry(),
            )
        except (IntegrityError, ProgrammingError) as err:
            lost_race = isinstance(err, IntegrityError) or "already exists" in str(err)
            if attempt == 4 or not lost_race:
                raise
            time.sleep(random.uniform(0.2, 1.0))
    raise AssertionError("unreachable")


class _Retry(RetryHeartbeatStaleTrialCallback):
    """Optuna's retry, without the interrupted attempt's user attributes: a copy that kept
    its dead worker would look dead itself (and be failed again) until a worker claims it, and
    its folder and MLflow runs are the dead attempt's, not its own."""

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        fresh = copy.deepcopy(trial)
        fresh.user_attrs = {}
        super().__call__(study, fresh)


def _retry() -> RetryHeartbeatStaleTrialCallback:
    """Re-queue an interrupted trial's parameters (up to 3 times for one set)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _Retry(max_retry=3)


def counted(t: FrozenTrial) -> bool:
    """Trials that used up budget: finished, pruned, or failed for a reason of their own."""
    if t.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return t.state == TrialState.FAIL and REASON_ATTR in t.user_attrs


def progress(study: optuna.Study) -> tuple[int, int, int]:
    """(counted trials, running trials, running trials not yet claimed by a worker: each is
    either about to be claimed or an orphan ``recover_local`` will fail)."""
    trials = study.get_trials(deepcopy=False)
    running = [t for t in trials if t.state == TrialState.RUNNING]
    unclaimed = sum(WORKER_ATTR not in t.user_attrs for t in running)
    return sum(counted(t) for t in trials), len(running), unclaimed


def orphaned(t: FrozenTrial, now: dt.datetime | None = None) -> bool:
    """RUNNING and never claimed by a worker, ``ORPHAN_S`` after it started."""
    if t.state != TrialState.RUNNING or WORKER_ATTR in t.user_attrs or t.datetime_start is None:
        return False
    now = now or dt.datetime.now()  # Optuna stamps trials with naive local time
    return (now - t.datetime_start).total_seconds() >= ORPHAN_S


def claim(trial: optuna.Trial, budget: int) -> bool:
    """Record this worker on the trial; False when the budget was already full when the trial
    was asked for (several workers can ask at once). Trials earlier in number have priority,
    so exactly ``budget`` trials run however many workers race."""
    trial.set_user_attr(WORKER_ATTR, {"host": socket.gethostname(), "pid": os.getpid()})
    ahead = [
        t
        for t in trial.study.get_trials(deepcopy=False)
        if t.number < trial.number
        and (counted(t) or (t.state == TrialState.RUNNING and not orphaned(t)))
    ]
    if len(ahead) >= budget:
        trial.set_user_attr(SURPLUS_ATTR, True)
        return False
    return True


def recover_local(
    study: optuna.Study,
    storage: RDBStorage,
    on_dead: Callable[[FrozenTrial], None] | None = None,
) -> list[int]:
    """Fail and re-queue this host's RUNNING trials whose worker process is gone; their
    half-written run folders are removed, after ``on_dead`` saw each such trial (its folder
    still there). Orphans (never claimed, see the module docstring) of any host are failed,
    not re-queued. Returns the recovered trial numbers."""
    host = socket.gethostname()
    retry = _retry()
    recovered = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if orphaned(t):
            try:
                storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            except UpdateFinishedTrialError:
                continue
            recovered.append(t.number)
            continue
        worker = t.user_attrs.get(WORKER_ATTR)
        if not worker or worker.get("host") != host or alive(int(worker["pid"])):
            continue
        try:
            storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        except UpdateFinishedTrialError:
            continue  # another worker recovered it first
        if on_dead is not None:
            on_dead(t)
        run_dir = t.user_attrs.get(RUN_DIR_ATTR)
        if run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
        retry(study, study.get_trials(deepcopy=False)[t.number])
        recovered.append(t.number)
    return recovered
