"""model.gradient_checkpointing: the same gradients as without it (full, partly frozen and LoRA
training of a tiny BERT, and a timm CNN), activations really recomputed, and a clear refusal for
backbones that cannot checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

import domainfit
from domainfit.config import ModelConfig
from domainfit.config_io import load_config
from domainfit.errors import ConfigError
from domainfit.models.backbone import Backbone, load_backbone
from domainfit.models.heads import TransferModel
from domainfit.progress import silenced
from domainfit.strategies.lora import Lora, is_adapter
from tests.models.tiny import save_tiny_bert
from tests.strategies.peft_cases import text_config

Grads = dict[str, torch.Tensor]


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("bert"))


def _text_batch() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    ids = torch.randint(5, 17, (4, 9), generator=gen)
    mask = torch.ones(4, 9, dtype=torch.long)
    mask[1, 6:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def _one_step(backbone: Backbone, batch: dict[str, torch.Tensor]) -> tuple[Grads, int]:
    """One SGD step of backbone + a linear head in training mode (dropout on, the same draws
    each time: checkpointing replays the RNG state). Returns the gradients of what trains and
    how often the last backbone block's feed-forward layer ran."""
    torch.manual_seed(5)
    model = TransferModel(backbone, nn.Linear(backbone.out_features, 2))
    calls = [0]
    last = next(m for n, m in backbone.inner.named_modules() if n.endswith(_LAST_BLOCK))
    last.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    model.train()
    torch.manual_seed(7)
    loss = nn.functional.cross_entropy(model(batch), torch.tensor([0, 1, 1, 0]))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1).step()
    return grads, calls[0]


_LAST_BLOCK = ("layer.1.intermediate", "layer4.0.conv1")  # tiny BERT, timm resnet10t


def _bert(
    bert_dir: Path, checkpointing: bool, freeze: str | None = None, lora: bool = False
) -> Backbone:
    bb = load_backbone(ModelConfig(backbone=f"hf:{bert_dir}", gradient_checkpointing=checkpointing))
    if lora:
        torch.manual_seed(11)  # adapter A matrices are random: the same ones both times
        cfg = load_config(text_config(bert_dir, bert_dir, {"name": "lora", "lora": {"r": 4}}))
        Lora.prepare(cfg, bb)
        for name, p in bb.inner.named_parameters():
            p.requires_grad_(is_adapter(name))
    if freeze is not None:
        for name, p in bb.inner.named_parameters():
            if name.startswith(freeze):
                p.requires_grad_(False)
    return bb


def _assert_same(plain: Grads, ckpt: Grads) -> None:
    assert plain.keys() == ckpt.keys() and plain
    for name, grad in plain.items():
        torch.testing.assert_close(ckpt[name], grad, atol=1e-6, rtol=1e-5, msg=name)


@pytest.mark.parametrize(
    ("freeze", "lora"),
    [(None, False), ("embeddings", False), ("embeddings", True)],
    ids=["full", "frozen-embeddings", "lora"],
)
def test_hf_checkpointing_gives_the_same_gradients(
    bert_dir: Path, freeze: str | None, lora: bool
) -> None:
    plain, runs_plain = _one_step(_bert(bert_dir, False, freeze, lora), _text_batch())
    ckpt, runs_ckpt = _one_step(_bert(bert_dir, True, freeze, lora), _text_batch())
    assert (runs_plain, runs_ckpt) == (1, 2)  # the block ran again in the backward pass
    _assert_same(plain, ckpt)
    layer_grads = [n for n in ckpt if ".layer.0." in n]
    assert layer_grads and all(ckpt[n].abs().sum() > 0 for n in layer_grads if "lora_A" not in n)
    if lora:
        assert all(is_adapter(n) for n in ckpt if n.startswith("encoder.model."))


def test_a_frozen_backbone_builds_no_graph(bert_dir: Path) -> None:
    """transformers' hook that makes the embeddings' output need a gradient is removed: with
    it, a frozen backbone would keep activations and run the backward pass through itself."""
    bb = _bert(bert_dir, True, freeze="")
    bb.encoder.train()
    assert not bb.encoder(_text_batch()).requires_grad


def test_timm_checkpointing_gives_the_same_gradients_and_batchnorm_statistics() -> None:
    """The recomputation in the backward pass leaves BatchNorm's running statistics alone."""
    images = {"x": torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))}
    results, buffers = [], []
    for checkpointing in (False, True):
        torch.manual_seed(0)
        backbone = load_backbone(
            ModelConfig(backbone="timm:resnet10t", gradient_checkpointing=checkpointing)
        )
        results.append(_one_step(backbone, images))
        buffers.append(dict(backbone.inner.named_buffers()))
    (plain, runs_plain), (ckpt, runs_ckpt) = results
    assert (runs_plain, runs_ckpt) == (1, 2)
    _assert_same(plain, ckpt)
    assert any(n.endswith("running_mean") for n in buffers[0])
    for name, value in buffers[0].items():
        torch.testing.assert_close(buffers[1][name], value, atol=1e-6, rtol=1e-5, msg=name)


def test_fit_with_checkpointing_trains_the_same_weights(tmp_path: Path, bert_dir: Path) -> None:
    """gradual_unfreeze starts with the embeddings and lower layers frozen."""
    weights = []
    for checkpointing in (False, True):
        cfg: dict[str, Any] = text_config(
            tmp_path, bert_dir, {"name": "gradual_unfreeze", "unfreeze_every": 1}
        )
        cfg["model"]["gradient_checkpointing"] = checkpointing
        with silenced():
            domainfit.fit(cfg, out=tmp_path / f"run-{checkpointing}")
        weights.append(load_file(str(tmp_path / f"run-{checkpointing}/model/model.safetensors")))
    assert weights[0].keys() == weights[1].keys()
    for name, value in weights[0].items():
        torch.testing.assert_close(weights[1][name], value, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize(
    ("backbone", "what"),
    [("mlp", "mlp"), ("torchvision:resnet18", "torchvision")],
)
def test_refused_for_backbones_that_cannot(backbone: str, what: str) -> None:
    cfg = ModelConfig(backbone=backbone, gradient_checkpointing=True)
    message = f"model.gradient_checkpointing is not supported for {what} backbones; remove it"
    with pytest.raises(ConfigError) as err:
        load_backbone(cfg, input_width=8)
    assert str(err.value) == message
