"""`domainfit demo --images` wired end to end on its own configs, shrunk: 70 images per PACS
domain at 32 px, one epoch per stage. Checks the wiring, not the accuracy or the time."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from domainfit import demo
from domainfit.cli import main

REAL_CONFIGS = demo.image_demo_configs


def tiny_configs(quick: bool) -> dict[str, dict[str, Any]]:
    configs = copy.deepcopy(REAL_CONFIGS(quick))
    for cfg in configs.values():
        cfg["data"]["limit"] = 70  # 10 per class: a stratified 7-class test split needs 7+
        cfg["model"]["image_size"] = 32
        cfg["train"]["epochs"] = 1
        # no MLflow database to create; only the two_stage report (with its baseline) is drawn
        cfg["track"] = {"enabled": False, "report": False}
    two = configs["two_stage"]
    two["strategy"]["head_epochs"] = 1
    two["train"]["epochs"] = 2  # one epoch of head alone, one with the top groups unfrozen
    return configs


@pytest.fixture
def tiny_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_data: Path) -> Path:
    monkeypatch.setenv("DOMAINFIT_DATA", str(shared_data))
    monkeypatch.setattr(demo, "image_demo_configs", tiny_configs)
    monkeypatch.setenv("COLUMNS", "300")  # rich folds lines at 80 columns otherwise
    monkeypatch.chdir(tmp_path)  # the feature cache and MLflow's database go under runs/
    return tmp_path


def test_image_demo_configs_share_split_size_and_target() -> None:
    for quick in (False, True):
        probe, two = REAL_CONFIGS(quick).values()
        for key in ("data", "split", "adapt", "model", "seed"):
            assert probe[key] == two[key], key
        assert probe["data"]["target"] == "pacs:art_painting"
        assert two["strategy"]["name"] == "two_stage" and probe["strategy"]["name"] == (
            "linear_probe"
        )


def test_image_demo_runs_both_and_reports_the_art_paintings(
    tiny_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_root = tiny_demo / "demo"
    code = main(["demo", "--images", "--quick", "--out", str(out_root)])
    out = capsys.readouterr()
    assert code == 0, out.err
    probe, two = out_root / "linear_probe", out_root / "two_stage"
    for run in (probe, two):
        metrics = json.loads((run / "metrics.json").read_text())
        assert {"source.test.accuracy", "target.test.accuracy"} <= set(metrics)
        data = json.loads((run / "data.json").read_text())
        assert data["roles"]["target"]["splits"]["test"] == 70  # every art painting is scored
    # the same photo split and image size for both runs
    for split in ("source.test", "target.test"):
        ids = [
            (run / "predictions" / f"{split}.csv").read_text().splitlines() for run in (probe, two)
        ]
        assert [r.split(",")[0] for r in ids[0]] == [r.split(",")[0] for r in ids[1]]
    sizes = {
        yaml.safe_load((r / "config.yaml").read_text())["model"]["image_size"] for r in (probe, two)
    }
    assert sizes == {32}
    assert any((tiny_demo / "runs" / "cache" / "features").glob("*.safetensors"))
    report = two / "report.html"
    assert report.is_file() and "linear_probe" in report.read_text(encoding="utf-8")
    text = " ".join(out.out.split())
    assert "art_painting" in text and "target.test:" in text and "(n=70)" in text
    assert "report.html" in text
