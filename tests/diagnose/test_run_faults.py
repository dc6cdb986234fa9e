"""``diagnose --run`` on planted training faults: a learning rate 100x too high, BatchNorm
statistics left updating in frozen layers; a healthy run raises nothing serious."""

from __future__ import annotations

from pathlib import Path

import pytest

import domainfit
import domainfit.api as api
from tests.diagnose import planted
from tests.models.tiny import write_image_folder

SERIOUS = ("high", "medium")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    return planted.write(planted.blobs(), tmp_path_factory.mktemp("d") / "source.csv")


def test_healthy_run_has_no_serious_finding(source: str, tmp_path: Path) -> None:
    run = domainfit.fit(planted.config(source), out=tmp_path / "run")
    result = api.diagnose(run=run.dir)
    assert not result.codes(*SERIOUS), [f.title for f in result.findings]
    assert {"lr_too_high", "lr_too_low", "ineffective_lr"} <= set(result.ran)
    assert (run.dir / "diagnosis.json").is_file()


def test_learning_rate_100x_too_high(source: str, tmp_path: Path) -> None:
    run = domainfit.fit(planted.config(source, lr=1.0), out=tmp_path / "run")
    result = api.diagnose(run=run.dir)
    assert "lr_too_high" in result.codes(*SERIOUS), [f.title for f in result.findings]
    assert result.findings[0].severity == "high"
    report = (run.dir / "report.html").read_text()
    assert 'id="diagnosis"' in report and "lr_too_high" in report


def test_learning_rate_far_too_low(source: str, tmp_path: Path) -> None:
    cfg = planted.config(source, lr=1e-6, epochs=3)
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert "lr_too_low" in api.diagnose(run=run.dir).codes(*SERIOUS)


def _image_config(root: Path) -> dict:
    return {
        "name": "bn",
        "seed": 0,
        "data": {"source": str(root)},
        "split": {"method": "stratified", "train": 0.6, "val": 0.2, "test": 0.2},
        "model": {"backbone": "timm:resnet10t", "image_size": 16},
        # stem..layer3 stay frozen for the whole run; the head, then layer4, train
        "strategy": {"name": "two_stage", "head_epochs": 1, "unfreeze_top": 1},
        "train": {"epochs": 2, "batch_size": 8, "lr": 1e-2},
        "track": {"enabled": False},
    }


@pytest.mark.parametrize("planted_bug", [True, False])
def test_batchnorm_statistics_left_updating(
    planted_bug: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # domainfit rests the BatchNorm of frozen groups in every training step; the planted bug
    # is the one Lightning #15062 and transformers #24479 report: that step skipped, so the
    # frozen layers' statistics follow the new domain's batches
    if planted_bug:
        monkeypatch.setattr("domainfit.strategies.base.rest_idle_batchnorm", lambda m: None)
    root = write_image_folder(tmp_path / "imgs", n=12)
    run = domainfit.fit(_image_config(root), out=tmp_path / "run")
    monkeypatch.undo()
    result = api.diagnose(run=run.dir)
    assert "bn_stats_drift" in result.ran
    if planted_bug:
        assert "bn_stats_drift" in result.codes(*SERIOUS)
    else:
        assert "bn_stats_drift" not in result.codes()


@pytest.mark.parametrize("planted_bug", [False, True])
def test_resume_replay(
    planted_bug: bool, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = planted.config(source, epochs=3)
    cfg["model"]["head"]["dropout"] = 0.3  # randomness a resume must restore
    cfg["train"]["keep_checkpoints"] = 2  # the replay starts from the one before the last
    run = domainfit.fit(cfg, out=tmp_path / "run")
    if planted_bug:
        # the bug Lightning #21901-style reports describe: RNG state not restored on resume
        monkeypatch.setattr("domainfit.train.checkpoint.set_rng_state", lambda state: None)
        import torch

        torch.manual_seed(12345)
    result = api.diagnose(run=run.dir, check_resume=True)
    assert "nondeterministic_resume" in result.ran
    if planted_bug:
        assert "nondeterministic_resume" in result.codes("high")
    else:
        assert "nondeterministic_resume" not in result.codes()
