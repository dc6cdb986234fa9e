"""``fit`` wiring of the text pipeline: length-bucketed training batches and the token cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import domainfit
import domainfit.train.trainer as trainer_mod
from tests.models.tiny import save_tiny_bert, write_reviews_csv


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def _config(tmp: Path, bert: Path, **extra: Any) -> dict[str, Any]:
    return {
        "name": "tiny-text",
        "data": {"source": str(write_reviews_csv(tmp / "reviews.csv"))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16, **extra.pop("model", {})},
        "train": {"epochs": 2, "batch_size": 8, "lr": 5e-3, **extra.pop("train", {})},
        "track": {"enabled": False},
    }


@pytest.mark.parametrize("bucket", [False, True])
def test_trainer_batches_follow_bucket_by_length(
    tmp_path: Path, bert_dir: Path, monkeypatch: pytest.MonkeyPatch, bucket: bool
) -> None:
    seen: list[bool] = []
    real = trainer_mod.Batches

    def recording(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("shuffle"):
            seen.append(bool(kwargs.get("bucket", False)))
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer_mod, "Batches", recording)
    cfg = _config(tmp_path, bert_dir, train={"bucket_by_length": bucket})
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert seen == [bucket, bucket]  # one shuffled epoch order per epoch
    assert run.metrics["source.test.accuracy"] >= 0.8


def test_second_run_reads_token_ids_from_the_cache(tmp_path: Path, bert_dir: Path) -> None:
    cache = tmp_path / "tokens"
    cfg = _config(tmp_path, bert_dir, model={"token_cache_dir": str(cache)})
    first = domainfit.fit(cfg, out=tmp_path / "a")
    files = sorted(cache.glob("*.safetensors"))
    assert files, "the first run stores its splits' token ids"
    stamps = {f: f.stat().st_mtime_ns for f in files}
    second = domainfit.fit(cfg, out=tmp_path / "b")
    assert sorted(cache.glob("*.safetensors")) == files  # nothing new: all read back
    assert {f: f.stat().st_mtime_ns for f in files} == stamps
    assert second.metrics == first.metrics


def test_token_cache_off(tmp_path: Path, bert_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path, bert_dir, model={"token_cache_dir": None})
    domainfit.fit(cfg, out=tmp_path / "run")
    assert not (tmp_path / "runs" / "cache" / "tokens").exists()
