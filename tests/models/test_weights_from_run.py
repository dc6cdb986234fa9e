"""``model.weights`` may name a finished run's model.safetensors: training continues from it
(MNIST model -> USPS) without a conversion step; the run's head is left behind."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

import domainfit
from domainfit.config import ModelConfig
from domainfit.models.backbone import load_backbone
from tests.models.tiny import save_tiny_bert, write_image_folder, write_reviews_csv


def test_a_run_continues_from_another_runs_weights(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "imgs", n=8)
    cfg = {
        "data": {"source": str(root)},
        "model": {"backbone": "timm:resnet10t", "image_size": 16},
        "train": {"epochs": 1, "batch_size": 8, "lr": 1e-2},
        "track": {"enabled": False},
    }
    first = domainfit.fit(cfg, out=tmp_path / "first")
    weights = first.dir / "model" / "model.safetensors"
    saved = load_file(str(weights))
    bb = load_backbone(ModelConfig(backbone="timm:resnet10t", weights=str(weights)))
    own = bb.inner.state_dict()
    assert torch.equal(own["conv1.0.weight"], saved["encoder.model.conv1.0.weight"])
    assert torch.equal(own["bn1.running_var"], saved["encoder.model.bn1.running_var"])
    cfg["model"]["weights"] = str(weights)
    second = domainfit.fit(cfg, out=tmp_path / "second")
    assert second.metrics["source.test.accuracy"] >= 0.5


def test_a_text_run_continues_from_another_runs_weights(tmp_path: Path) -> None:
    """Hugging Face backbones honour model.weights too (they used to ignore it silently): a
    source-only text model can be the start of an adaptation run."""
    bert = save_tiny_bert(tmp_path / "bert")
    cfg = {
        "data": {"source": str(write_reviews_csv(tmp_path / "reviews.csv"))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16, "token_cache_dir": None},
        "train": {"epochs": 2, "batch_size": 8, "lr": 1e-3},
        "track": {"enabled": False},
    }
    first = domainfit.fit(cfg, out=tmp_path / "first")
    weights = first.dir / "model" / "model.safetensors"
    saved = load_file(str(weights))
    key = "embeddings.word_embeddings.weight"
    fresh = load_backbone(ModelConfig(backbone=f"hf:{bert}")).inner.state_dict()
    loaded = load_backbone(ModelConfig(backbone=f"hf:{bert}", weights=str(weights)))
    assert not torch.equal(fresh[key], saved["encoder.model." + key])  # the first run trained
    assert torch.equal(loaded.inner.state_dict()[key], saved["encoder.model." + key])
