"""A lora run stopped right after a checkpoint and resumed ends bit-identical to one never
stopped: prepare re-injects the same adapters before the checkpoint loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

import domainfit
from tests.models.tiny import save_tiny_bert
from tests.strategies.peft_cases import text_config as _config


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def stop_after_checkpoint(monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    """Simulate a kill right after the checkpoint of optimizer step ``step`` is written."""
    import domainfit.train.trainer as trainer_mod

    real = trainer_mod.save_checkpoint

    def save_then_stop(folder: Path, at: int, *args: Any, **kwargs: Any) -> Path:
        path = real(folder, at, *args, **kwargs)
        if at == step:
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(trainer_mod, "save_checkpoint", save_then_stop)


def test_stopped_lora_run_resumes_bit_identical(
    tmp_path: Path, bert_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config(tmp_path, bert_dir, {"name": "lora", "lora": {"r": 4}}, checkpoint_every_steps=2)
    cfg["model"]["head"] = {"dropout": 0.3}  # dropout draws on the RNG the checkpoint restores
    ref = domainfit.fit(cfg, out=tmp_path / "ref")

    with monkeypatch.context() as m:
        stop_after_checkpoint(m, 6)  # 33 training rows / 8 = 5 steps an epoch: mid-epoch 2
        with pytest.raises(KeyboardInterrupt):
            domainfit.fit(cfg, out=tmp_path / "stopped")
    assert not (tmp_path / "stopped" / "metrics.json").exists()
    resumed = domainfit.fit(resume=tmp_path / "stopped")

    assert resumed.metrics == ref.metrics
    for name in ("metrics.json", "metrics.jsonl"):
        assert (resumed.dir / name).read_text() == (ref.dir / name).read_text()
    a = load_file(str(ref.dir / "model" / "model.safetensors"))
    b = load_file(str(resumed.dir / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
