"""Augmentation inside ``fit``: training batches only, reproducible, refused where it cannot
apply, before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import domainfit
from domainfit.errors import ConfigError
from tests.models.tiny import save_tiny_bert, write_image_folder, write_reviews_csv


def _image_cfg(root: Path, augment: list[dict]) -> dict:
    return {
        "seed": 0,
        "data": {"source": str(root)},
        "model": {"backbone": "timm:resnet10t", "image_size": 16},
        "train": {"epochs": 2, "batch_size": 8, "lr": 1e-2},
        "augment": augment,
        "track": {"enabled": False},
    }


def test_image_augmentation_is_reproducible_and_changes_training(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "imgs", n=12)
    ops = [{"op": "hflip", "p": 0.5}, {"op": "rotate", "degrees": 15}, {"op": "mixup"}]
    a = domainfit.fit(_image_cfg(root, ops), out=tmp_path / "a")
    b = domainfit.fit(_image_cfg(root, ops), out=tmp_path / "b")
    plain = domainfit.fit(_image_cfg(root, []), out=tmp_path / "plain")
    wa, wb, wp = (load_file(str(r.dir / "model" / "model.safetensors")) for r in (a, b, plain))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)  # same seed: same augmented batches
    assert any(not torch.equal(wa[k], wp[k]) for k in wa)  # and they differ from no augment
    # evaluation splits are never augmented: the same weights score the same
    ev = domainfit.evaluate(a.dir)
    assert ev["source.test"]["metrics"]["accuracy"] == a.metrics["source.test.accuracy"]


def test_text_augmentation_trains(tmp_path: Path) -> None:
    bert = save_tiny_bert(tmp_path / "bert")
    cfg = {
        "data": {"source": str(write_reviews_csv(tmp_path / "r.csv", n=80))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "train": {"epochs": 3, "batch_size": 8, "lr": 5e-3},
        "augment": [{"op": "token_delete", "rate": 0.2, "p": 0.5}, {"op": "token_mask"}],
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert run.metrics["source.test.accuracy"] >= 0.8


@pytest.mark.parametrize(
    ("augment", "strategy", "match"),
    [
        ([{"op": "rotate"}], "full", "works on image inputs"),
        ([{"op": "token_swap"}], "linear_probe", "cached backbone features"),
        ([{"op": "spin"}], "full", "unknown"),
    ],
)
def test_refused_before_anything_is_written(
    augment: list[dict], strategy: str, match: str, tmp_path: Path
) -> None:
    bert = save_tiny_bert(tmp_path / "bert")
    cfg = {
        "data": {"source": str(write_reviews_csv(tmp_path / "r.csv", n=40))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "strategy": {"name": strategy, "cache_dir": str(tmp_path / "cache")},
        "augment": augment,
        "track": {"enabled": False},
    }
    with pytest.raises(ConfigError, match=match):
        domainfit.fit(cfg, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_preview_image_grid_and_text_pairs(tmp_path: Path) -> None:
    from domainfit.cli import main

    root = write_image_folder(tmp_path / "imgs", n=6)
    import yaml

    cfg_path = tmp_path / "img.yaml"
    cfg_path.write_text(yaml.safe_dump(_image_cfg(root, [{"op": "rotate", "degrees": 30}])))
    assert main(["augment-preview", str(cfg_path), "--n", "4", "--out", str(tmp_path / "p")]) == 0
    png = tmp_path / "p" / "augment_preview.png"
    assert png.is_file() and png.stat().st_size > 1000
    bert = save_tiny_bert(tmp_path / "bert")
    text_cfg = {
        "data": {"source": str(write_reviews_csv(tmp_path / "r.csv", n=40))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "augment": [{"op": "token_mask", "rate": 0.5}],
    }
    cfg_path.write_text(yaml.safe_dump(text_cfg))
    assert main(["augment-preview", str(cfg_path), "--n", "3", "--out", str(tmp_path / "t")]) == 0
    md = (tmp_path / "t" / "augment_preview.md").read_text()
    assert md.count("before:") == 3 and "[MASK]" in md


def test_fourier_adaptation_reads_the_target(tmp_path: Path) -> None:
    src = write_image_folder(tmp_path / "src", n=8)
    tgt = write_image_folder(tmp_path / "tgt", n=8, seed=1)
    cfg = _image_cfg(src, [{"op": "fda", "beta": 0.1}, {"op": "match_histogram", "p": 0.5}])
    with pytest.raises(ConfigError, match="data.target is not set"):
        domainfit.fit(cfg, out=tmp_path / "none")
    assert not (tmp_path / "none").exists()
    cfg["data"]["target"] = str(tgt)
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert "target.test.accuracy" in run.metrics


@pytest.mark.parametrize("op", [{"op": "mixstyle", "p": 0.5}, {"op": "pgd", "eps": 0.05}])
def test_network_level_ops_train(op: dict, tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "imgs", n=8)
    run = domainfit.fit(_image_cfg(root, [op]), out=tmp_path / "run")
    plain = domainfit.fit(_image_cfg(root, []), out=tmp_path / "plain")
    wa = load_file(str(run.dir / "model" / "model.safetensors"))
    wp = load_file(str(plain.dir / "model" / "model.safetensors"))
    assert any(not torch.equal(wa[k], wp[k]) for k in wa)


@pytest.mark.parametrize("op", [{"op": "embed_mixup", "alpha": 0.4}, {"op": "embed_fgsm"}])
def test_embedding_space_ops_train_a_text_model(op: dict, tmp_path: Path) -> None:
    bert = save_tiny_bert(tmp_path / "bert")
    cfg = {
        "seed": 0,
        "data": {"source": str(write_reviews_csv(tmp_path / "r.csv", n=80))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "train": {"epochs": 3, "batch_size": 8, "lr": 5e-3},
        "augment": [op],
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    plain = domainfit.fit({**cfg, "augment": []}, out=tmp_path / "plain")
    wa = load_file(str(run.dir / "model" / "model.safetensors"))
    wp = load_file(str(plain.dir / "model" / "model.safetensors"))
    assert any(not torch.equal(wa[k], wp[k]) for k in wa)
    assert run.metrics["source.test.accuracy"] >= 0.7
