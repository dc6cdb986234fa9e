"""Open an MLflow store safely when several processes start at once.

MLflow creates and migrates a fresh SQLite store on first use, without any lock: three fits
started together race through the migrations and fail (``table ... already exists``,
``duplicate column name``), sometimes leaving the file half-migrated for every later run.
Every first use of a store here goes through :func:`store_lock`, an exclusive ``flock`` on a
file beside the database, so exactly one process migrates and the others find it done.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from domainfit.errors import ConfigError, DomainfitError

SQLITE = "sqlite:///"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a SQLite URI (relative or absolute); None for other stores."""
    if not uri.startswith(SQLITE):
        return None
    path = uri.removeprefix(SQLITE)
    return Path(path) if path and path != ":memory:" else None


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock on ``<db>.lock`` while the store is created or migrated; a no-op
    for servers and file stores, which do their own locking or need none."""
    path = sqlite_path(uri)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, even on a crash
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def damaged_store(uri: str, err: BaseException) -> ConfigError:
    """One line for a store MLflow cannot open: which file, and what to do about it."""
    first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
    where = str(sqlite_path(uri) or uri)
    if "database is locked" in first:  # busy, not damaged: nothing to move aside
        return ConfigError(
            f"MLflow store {where} stayed locked by another process ({first})",
            "run again, or give parallel jobs their own track.uri",
        )
    if "out-of-date database schema" in first:
        return ConfigError(
            f"MLflow store {where} was written by an older MLflow ({first})",
            f"back it up and run `mlflow db upgrade {uri}`, or move {where} aside",
        )
    return ConfigError(
        f"MLflow store {where} cannot be opened, probably half-created by an interrupted or "
        f"concurrent run ({type(err).__name__}: {first})",
        f"move it aside (mv {where} {where}.bad) and run again, or set track.uri to a new file",
    )


@contextmanager
def opening(uri: str) -> Iterator[None]:
    """Lock the store and turn MLflow's failures to create or migrate a SQLite file into one line.

    Any exception counts: a migration over a half-made schema fails with whatever the step
    trips on (OperationalError, alembic's CommandError, even a bare ValueError)."""
    import logging

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no migration chatter on screen
    with store_lock(uri):
        try:
            yield
        except DomainfitError:
            raise
        except Exception as err:
            if sqlite_path(uri) is None:  # a server's errors say what they mean already
                raise
            raise damaged_store(uri, err) from err


def open_client(uri: str) -> Any:
    """An ``MlflowClient`` whose store exists and is migrated (created under the lock)."""
    from mlflow.tracking import MlflowClient

    with opening(uri):
        client = MlflowClient(uri)
        client.search_experiments(max_results=1)  # the first query creates and migrates it
    return client
