"""bitfit: only the backbone's biases (and the head) change."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import domainfit
from tests.models.tiny import save_tiny_bert
from tests.strategies.peft_cases import text_config as _config


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def test_bitfit_changes_only_biases(tmp_path: Path, bert_dir: Path) -> None:
    from transformers import BertModel

    run = domainfit.fit(_config(tmp_path, bert_dir, {"name": "bitfit"}), out=tmp_path / "run")
    trained = load_file(str(run.dir / "model" / "model.safetensors"))
    original = BertModel.from_pretrained(bert_dir).state_dict()
    changed = {k for k, v in original.items() if not torch.equal(trained[f"encoder.model.{k}"], v)}
    assert changed and all(k.endswith(".bias") for k in changed)
    assert any("LayerNorm.bias" in k for k in changed)
