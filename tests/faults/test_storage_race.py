"""Two sweeps opening one fresh PostgreSQL study race to create Optuna's tables and enum types;
the loser's "type studydirection already exists" is retried, other SQL errors are not (seen in
CI: `internal error: ProgrammingError ... DuplicateObject`)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import ProgrammingError

from domainfit.search import storage


class _Flaky:
    def __init__(self, message: str, failures: int) -> None:
        self.message, self.failures, self.calls = message, failures, 0

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ProgrammingError("CREATE TYPE studydirection", {}, Exception(self.message))
        return "storage"


def test_lost_creation_race_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    flaky = _Flaky('type "studydirection" already exists', failures=2)
    monkeypatch.setattr(storage, "RDBStorage", flaky)
    monkeypatch.setattr(storage.time, "sleep", lambda s: None)
    assert storage._rdb("postgresql://x/y", {}) == "storage"
    assert flaky.calls == 3


def test_other_sql_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    flaky = _Flaky("permission denied for schema public", failures=1)
    monkeypatch.setattr(storage, "RDBStorage", flaky)
    monkeypatch.setattr(storage.time, "sleep", lambda s: None)
    with pytest.raises(ProgrammingError):
        storage._rdb("postgresql://x/y", {})
    assert flaky.calls == 1
