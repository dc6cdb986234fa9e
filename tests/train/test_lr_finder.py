"""The learning-rate range test: a fresh curve each time, a suggestion that never crashes, and a
model, optimizer and RNG left exactly as they were, also after a finished training run."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from domainfit.config import TrainConfig
from domainfit.data.loaders import EncodedSet
from domainfit.errors import ConfigError
from domainfit.train.lr_finder import lr_range_test, save_plot, suggestions
from domainfit.train.trainer import Trainer


class _Net(nn.Module):
    """Two layers with BatchNorm and dropout, so buffers and train/eval modes matter."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2))
        self.out = nn.Linear(8, 2)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.out(self.body(batch["x"]))


def _data(n: int = 64) -> EncodedSet:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return EncodedSet({"x": x}, y)


def _trained(tmp: Path, **train: object) -> tuple[Trainer, TrainConfig]:
    """A model after a whole fit: Adam state filled, the linear schedule decayed to 0."""
    torch.manual_seed(0)
    cfg = TrainConfig(epochs=2, batch_size=16, lr=1e-2, **train)
    model = _Net()
    groups = [
        {"params": list(model.body.parameters()), "lr": 1e-3},  # a layer-wise ratio of 1/10
        {"params": list(model.out.parameters())},
    ]
    trainer = Trainer(model, nn.CrossEntropyLoss(), groups, cfg, tmp, seed=0)
    trainer.fit(_data(), None)
    return trainer, cfg


def _sweep(trainer: Trainer, cfg: TrainConfig, **kw: object):
    args = {"start": 1e-6, "end": 10.0, "steps": 30, **kw}
    return lr_range_test(
        trainer.model,
        trainer.loss_fn,
        trainer.optimizer,
        _data(),
        cfg,
        accelerator=trainer.accelerator,
        **args,  # type: ignore[arg-type]
    )


def test_after_training_everything_is_restored_bit_for_bit(tmp_path: Path) -> None:
    trainer, cfg = _trained(tmp_path)
    model, opt = trainer.model, trainer.optimizer
    model.eval()  # a mode the sweep changes
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    opt_state = {
        id_: {k: v.clone() if torch.is_tensor(v) else v for k, v in st.items()}
        for id_, st in opt.state_dict()["state"].items()
    }
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    rng = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())

    result = _sweep(trainer, cfg)

    assert result.lrs and 1e-6 <= result.suggestion <= 10.0
    for key, value in model.state_dict().items():
        assert torch.equal(value, weights[key]), key  # BatchNorm buffers included
    assert not model.training and not model.body[1].training
    after = opt.state_dict()["state"]
    assert after.keys() == opt_state.keys()
    for id_, st in opt_state.items():
        for k, v in st.items():
            assert torch.equal(after[id_][k], v) if torch.is_tensor(v) else after[id_][k] == v
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == groups
    assert all(p.grad is None for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), rng[0])
    assert (np.random.get_state()[1] == rng[1]).all() and random.getstate() == rng[2]


def test_runs_twice_with_a_fresh_curve_and_keeps_group_ratios(tmp_path: Path) -> None:
    trainer, cfg = _trained(tmp_path)
    seen: list[list[float]] = []

    def record(step: int, lr: float, loss: float) -> None:
        seen.append([g["lr"] for g in trainer.optimizer.param_groups])

    first = _sweep(trainer, cfg, on_step=record)
    second = _sweep(trainer, cfg)
    assert first.lrs == second.lrs and first.losses == second.losses  # nothing carried over
    # the decayed schedule is not the base: groups start from initial_lr, ratio 1/10 kept
    assert seen[0] == pytest.approx([1e-6 * 0.1, 1e-6])
    assert all(body == pytest.approx(out / 10) for body, out in seen)


def test_stops_when_the_loss_diverges(tmp_path: Path) -> None:
    trainer, cfg = _trained(tmp_path, optimizer="sgd", clip_grad_norm=None)
    result = _sweep(trainer, cfg, start=1e-4, end=1e6, steps=60)
    assert result.diverged and len(result.lrs) < 60
    assert result.smoothed[-1] > 4 * min(result.smoothed) or not np.isfinite(result.losses[-1])


def test_suggestion_rules_cover_curves_that_never_fall() -> None:
    lrs = list(np.geomspace(1e-5, 1, 11))
    falling = [1.0, 1.0, 0.98, 0.9, 0.6, 0.4, 0.35, 0.34, 0.5, 1.0, 3.0]
    got = suggestions(lrs, falling)
    assert got["steepest"] == lrs[4] and got["minimum/10"] == pytest.approx(lrs[7] / 10)
    rising = [0.01 * (1 + i) for i in range(11)]  # a model already trained: loss only grows
    got = suggestions(lrs, rising)
    assert got["steepest"] is None and got["minimum/10"] == pytest.approx(1e-6)
    assert suggestions(lrs[:1], [0.5]) == {"steepest": None, "minimum/10": pytest.approx(1e-6)}


@pytest.mark.parametrize(
    ("start", "end", "steps"), [(1e-3, 1e-4, 20), (0.0, 1.0, 20), (1e-5, 1, 2)]
)
def test_bad_ranges_are_config_errors(tmp_path: Path, start: float, end: float, steps: int) -> None:
    trainer, cfg = _trained(tmp_path)
    with pytest.raises(ConfigError):
        _sweep(trainer, cfg, start=start, end=end, steps=steps)


def test_plot_is_a_png(tmp_path: Path) -> None:
    trainer, cfg = _trained(tmp_path)
    result = _sweep(trainer, cfg)
    save_plot(result, tmp_path / "out" / "lr_find.png")
    assert (tmp_path / "out" / "lr_find.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
