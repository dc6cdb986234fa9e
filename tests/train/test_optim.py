from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
import torch
from torch import nn

from domainfit.config import TrainConfig
from domainfit.train.optim import build_optimizer, build_scheduler


def _lrs(cfg: TrainConfig, steps_per_epoch: int = 10) -> list[list[float]]:
    model = nn.Linear(2, 2)
    groups = [
        {"params": [model.weight], "lr": cfg.lr},
        {"params": [model.bias], "lr": cfg.lr * 0.1},
    ]
    opt = build_optimizer(groups, cfg)
    sch = build_scheduler(opt, cfg, steps_per_epoch)
    out = []
    for _ in range(steps_per_epoch * cfg.epochs):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sch.step()
    return out


def test_linear_warmup_then_linear_decay() -> None:
    lrs = _lrs(TrainConfig(lr=1.0, epochs=2, schedule="linear", warmup_steps=4))
    first = [row[0] for row in lrs]
    assert first[0] == pytest.approx(1 / 5) and first[3] == pytest.approx(4 / 5)
    assert first[4] == pytest.approx(1.0)
    assert first[-1] < 0.1 and all(a >= b for a, b in pairwise(first[4:]))


def test_group_ratios_survive_the_schedule() -> None:
    schedules = ("linear", "cosine", "step", "exponential", "onecycle", "constant", "inverse")
    for schedule in schedules:
        lrs = _lrs(TrainConfig(lr=1.0, epochs=3, schedule=schedule, warmup_steps=3, gamma=0.5))
        for w, b in lrs:
            assert b == pytest.approx(0.1 * w), schedule


def test_step_decays_per_epoch() -> None:
    lrs = _lrs(TrainConfig(lr=1.0, epochs=3, schedule="step", gamma=0.5, step_size=1))
    assert [lrs[i][0] for i in (0, 9, 10, 20)] == pytest.approx([1.0, 1.0, 0.5, 0.25])


def test_multistep_needs_milestones() -> None:
    with pytest.raises(ValueError, match="milestones"):
        TrainConfig(schedule="multistep")
    lrs = _lrs(TrainConfig(lr=1.0, epochs=3, schedule="multistep", milestones=[2], gamma=0.1))
    assert lrs[19][0] == pytest.approx(1.0) and lrs[20][0] == pytest.approx(0.1)


def test_inverse_is_the_dann_annealing() -> None:
    lrs = [r[0] for r in _lrs(TrainConfig(lr=1.0, epochs=2, schedule="inverse"))]
    assert lrs[0] == pytest.approx(1.0)
    assert lrs[10] == pytest.approx((1 + 10 * 10 / 20) ** -0.75)  # halfway: 6^-0.75
    assert all(a > b for a, b in pairwise(lrs))


def test_inverse_resumes_through_a_weights_only_checkpoint(tmp_path: Path) -> None:
    cfg = TrainConfig(lr=1.0, epochs=2, schedule="inverse", warmup_steps=2)
    model = nn.Linear(2, 2)
    opt = build_optimizer([{"params": list(model.parameters())}], cfg)
    sch = build_scheduler(opt, cfg, 10)
    for _ in range(7):
        opt.step()
        sch.step()
    torch.save(sch.state_dict(), tmp_path / "sched.pt")
    expected = [g["lr"] for g in opt.param_groups]
    opt2 = build_optimizer([{"params": list(model.parameters())}], cfg)
    sch2 = build_scheduler(opt2, cfg, 10)
    sch2.load_state_dict(torch.load(tmp_path / "sched.pt", weights_only=True))
    assert sch2.get_last_lr() == pytest.approx(expected)


def test_onecycle_peaks_at_lr() -> None:
    lrs = [r[0] for r in _lrs(TrainConfig(lr=2.0, epochs=2, schedule="onecycle"))]
    assert max(lrs) == pytest.approx(2.0, rel=1e-3) and lrs[0] < 0.2 and lrs[-1] < 0.01


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop"])
def test_optimizers(name: str) -> None:
    model = nn.Linear(2, 1)
    cfg = TrainConfig(optimizer=name, lr=0.1, nesterov=name == "sgd")
    opt = build_optimizer([{"params": list(model.parameters())}], cfg)
    before = model.weight.detach().clone()
    model(torch.ones(4, 2)).sum().backward()
    opt.step()
    assert not torch.equal(before, model.weight)


def test_scheduler_resumes_from_state() -> None:
    cfg = TrainConfig(lr=1.0, epochs=2, schedule="cosine", warmup_steps=3)
    model = nn.Linear(2, 2)
    opt = build_optimizer([{"params": list(model.parameters())}], cfg)
    sch = build_scheduler(opt, cfg, 10)
    for _ in range(7):
        opt.step()
        sch.step()
    state = sch.state_dict(), opt.state_dict()
    ref = []
    for _ in range(5):
        opt.step()
        sch.step()
        ref.append(opt.param_groups[0]["lr"])
    opt2 = build_optimizer([{"params": list(model.parameters())}], cfg)
    sch2 = build_scheduler(opt2, cfg, 10)
    opt2.load_state_dict(state[1])
    sch2.load_state_dict(state[0])
    got = []
    for _ in range(5):
        opt2.step()
        sch2.step()
        got.append(opt2.param_groups[0]["lr"])
    assert got == pytest.approx(ref)
