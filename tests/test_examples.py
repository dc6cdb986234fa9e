"""Every example config runs as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

import domainfit

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("config", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_audits_and_prepares(config: Path, tmp_path: Path) -> None:
    report = domainfit.audit(config)
    assert report.domains and all(d.samples > 0 for d in report.domains)
    run = domainfit.prepare(config, tmp_path / "prepared")
    assert (run.dir / "splits.json").is_file() and (run.dir / "config.yaml").is_file()


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 3
