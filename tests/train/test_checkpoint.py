from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch
from torch import nn

from domainfit.config import TrainConfig
from domainfit.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from domainfit.train.optim import build_optimizer, build_scheduler


def _setup() -> tuple[nn.Module, torch.optim.Optimizer, object]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    cfg = TrainConfig(lr=0.1, epochs=2, warmup_steps=2)
    opt = build_optimizer([{"params": list(model.parameters())}], cfg)
    return model, opt, build_scheduler(opt, cfg, 5)


def _train(model: nn.Module, opt: torch.optim.Optimizer, sch: object, steps: int) -> None:
    for _ in range(steps):
        loss = model(torch.randn(3, 4)).pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        sch.step()  # type: ignore[attr-defined]


def test_round_trip_continues_bit_identically(tmp_path: Path) -> None:
    model, opt, sch = _setup()
    _train(model, opt, sch, 3)
    path = save_checkpoint(tmp_path, 3, model, opt, sch, {"epoch": 0, "step": 3})
    _train(model, opt, sch, 4)
    expected = {k: v.clone() for k, v in model.state_dict().items()}
    draws = (random.random(), float(np.random.rand()))

    model2, opt2, sch2 = _setup()
    ckpt = load_checkpoint(path, model2, opt2, sch2)
    assert ckpt.state == {"epoch": 0, "step": 3}
    _train(model2, opt2, sch2, 4)
    for k, v in model2.state_dict().items():
        assert torch.equal(v, expected[k]), k
    assert (random.random(), float(np.random.rand())) == draws


def test_latest_ignores_partial_writes_and_prunes(tmp_path: Path) -> None:
    model, opt, sch = _setup()
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, step, model, opt, sch, {"step": step}, keep=2)
    assert latest_checkpoint(tmp_path) == tmp_path / "step-00000003"
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-00000002", "step-00000003"]
    # a write killed before its rename, and one killed before the pointer moved
    (tmp_path / ".step-00000004.abc").mkdir()
    (tmp_path / ".step-00000004.abc" / "model.safetensors").write_bytes(b"\0" * 10)
    (tmp_path / "step-00000005").mkdir()
    assert latest_checkpoint(tmp_path) == tmp_path / "step-00000003"
    save_checkpoint(tmp_path, 6, model, opt, sch, {"step": 6}, keep=2)
    assert not list(tmp_path.glob(".step-*"))
    assert latest_checkpoint(tmp_path) == tmp_path / "step-00000006"
    assert sorted(p.name for p in tmp_path.glob("step-*")) == ["step-00000003", "step-00000006"]


def test_no_checkpoint_yet(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None
