"""``unreliable_validator``: SND chose the checkpoint of a two-class task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from domainfit.diagnose.run_findings import run_findings, validator_findings
from domainfit.report.runfolder import RunFolder


def _config(select: str, method: str = "mmd", self_training: bool = False) -> dict:
    return {
        "adapt": {"method": method, "select": select, "self_training": {"enabled": self_training}}
    }


@pytest.mark.parametrize(
    ("config", "classes", "expected"),
    [
        (_config("snd"), ["neg", "pos"], 1),
        (_config("snd", method="none", self_training=True), ["neg", "pos"], 1),
        (_config("im"), ["neg", "pos"], 0),
        (_config("snd"), ["a", "b", "c"], 0),  # SND was built for many classes
        (_config("snd", method="none"), ["neg", "pos"], 0),  # no adaptation: select is unused
        ({}, ["neg", "pos"], 0),
    ],
)
def test_snd_on_two_classes_only(config: dict, classes: list[str], expected: int) -> None:
    found = validator_findings(config, classes, is_regression=False)
    assert len(found) == expected
    if found:
        assert found[0].code == "unreliable_validator"
        assert found[0].severity == "medium"
        assert "adapt.select: im" in found[0].fix


def test_run_findings_reads_the_run_folder(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(_config("snd")))
    (tmp_path / "evaluation.json").write_text(
        json.dumps({"task": "classification", "classes": ["neg", "pos"]})
    )
    codes = [f.code for f in run_findings(RunFolder(tmp_path), plan=None)]
    assert codes == ["unreliable_validator"]
