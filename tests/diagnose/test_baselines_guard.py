"""The negative-transfer guard: baselines train on the same splits, baselines.json holds the
gain with a paired interval, and ``diagnose`` raises ``negative_transfer`` from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import domainfit
import domainfit.api as api
from domainfit.baselines import baseline_config
from domainfit.config import RunConfig
from domainfit.errors import ConfigError
from tests.models.tiny import save_tiny_bert, write_reviews_csv


@pytest.fixture(scope="module")
def bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("bert"))


def _config(tmp: Path, backbone: str, lr: float) -> dict:
    return {
        "name": "guard",
        "data": {"source": str(write_reviews_csv(tmp / "reviews.csv", n=200))},
        "split": {"method": "stratified", "train": 0.5, "val": 0.1, "test": 0.4},
        "model": {"backbone": backbone, "max_length": 16},
        "train": {"epochs": 3, "batch_size": 16, "lr": lr, "clip_grad_norm": None},
        "baselines": ["scratch", "linear_probe", "source_only"],
        "track": {"enabled": False},
    }


def test_fine_tuning_that_destroys_features_is_caught(tmp_path: Path) -> None:
    # the real MiniLM's sentence features separate the reviews; a learning rate far too high
    # wrecks them in fine-tuning, while the probe keeps them intact
    cfg = _config(tmp_path, "minilm", lr=3.0)
    cfg["baselines"] = ["linear_probe", "source_only"]
    run = domainfit.fit(cfg, out=tmp_path / "run")
    doc = json.loads((run.dir / "baselines.json").read_text())
    assert set(doc["baselines"]) == {"linear_probe", "source_only"}
    assert "skipped" in doc["baselines"]["source_only"]  # nothing adapts in this run
    probe = doc["baselines"]["linear_probe"]["comparisons"][0]
    assert probe["split"] == "source.test" and probe["n"] == 80
    assert probe["baseline"] > probe["run"]
    assert (run.dir / "baselines" / "linear_probe" / "metrics.json").is_file()
    found = [f for f in api.diagnose(run=run.dir).findings if f.code == "negative_transfer"]
    worst = next(f for f in found if f.evidence["baseline"] == "linear_probe")
    assert worst.severity == "high"
    assert "report.html" in {p.name for p in run.dir.iterdir()}
    assert "baselines" in (run.dir / "report.html").read_text()


def test_healthy_fine_tuning_raises_no_high_negative_transfer(tmp_path: Path, bert: Path) -> None:
    run = domainfit.fit(_config(tmp_path, f"hf:{bert}", lr=5e-3), out=tmp_path / "run")
    doc = json.loads((run.dir / "baselines.json").read_text())
    assert (run.dir / "baselines" / "scratch" / "metrics.json").is_file()
    scratch = doc["baselines"]["scratch"]["comparisons"][0]
    assert scratch["run"] >= scratch["baseline"]
    found = api.diagnose(run=run.dir).findings
    assert not [f for f in found if f.code == "negative_transfer" and f.severity == "high"]


def test_baseline_configs() -> None:
    cfg = RunConfig.model_validate(
        {
            "data": {"source": "s.csv", "target": "t.csv"},
            "model": {"backbone": "minilm"},
            "strategy": {"name": "lora"},
            "adapt": {"method": "dann", "self_training": {"enabled": True}},
            "baselines": ["scratch", "linear_probe", "source_only"],
        }
    )
    scratch, _ = baseline_config(cfg, "scratch")
    assert scratch is not None and not scratch.model.pretrained  # type: ignore[union-attr]
    assert scratch.strategy.name == "full" and not scratch.adapt.enabled
    probe, _ = baseline_config(cfg, "linear_probe")
    assert probe is not None and probe.strategy.name == "linear_probe"
    source, _ = baseline_config(cfg, "source_only")
    assert source is not None and not source.adapt.enabled and source.strategy.name == "lora"
    assert not source.baselines  # a baseline has no baselines of its own
    mlp = cfg.model_copy(update={"model": cfg.model.model_copy(update={"backbone": "mlp"})})  # type: ignore[union-attr]
    assert baseline_config(mlp, "scratch")[0] is None
    timm = cfg.model_copy(
        update={"model": cfg.model.model_copy(update={"backbone": "timm:resnet18"})}
    )  # type: ignore[union-attr]
    assert baseline_config(timm, "linear_probe")[0] is None  # no weights: nothing pretrained
    weighted = timm.model_copy(
        update={"model": timm.model.model_copy(update={"weights": "w.safetensors"})}
    )  # type: ignore[union-attr]
    assert baseline_config(weighted, "linear_probe")[0] is not None


def test_baselines_with_kfold_are_refused(tmp_path: Path) -> None:
    cfg = {
        "data": {"source": "s.csv"},
        "model": {"backbone": "minilm"},
        "split": {"method": "kfold"},
        "baselines": ["linear_probe"],
    }
    with pytest.raises(ConfigError, match="kfold"):
        domainfit.fit(cfg, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
