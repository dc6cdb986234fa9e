"""Run folders and their reports, built once per module: matplotlib makes each report cost
about a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from domainfit.report import write_run_report
from tests.report.runs import make_kfold, make_run


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A binary run with labelled target data, reported against a weaker baseline."""
    root = tmp_path_factory.mktemp("binary")
    run = make_run(root / "run", "binary", target=True)
    base = make_run(root / "base", "binary", seed=1, skill=0.7, strategy="linear_probe")
    path = write_run_report(run, [base])
    return path, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def kfold(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_run_report(make_kfold(tmp_path_factory.mktemp("cv") / "cv", k=3))
    return path.read_text(encoding="utf-8")
