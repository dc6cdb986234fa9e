from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from domainfit.config import EarlyStoppingConfig, TrainConfig
from domainfit.data.loaders import EncodedSet
from domainfit.train.trainer import Trainer, TrainingDivergedError


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.body(batch["x"])


def _data(n: int = 96, seed: int = 0) -> EncodedSet:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return EncodedSet({"x": x}, y)


def _trainer(tmp: Path, cfg: TrainConfig, every: int | None = None) -> Trainer:
    model = Net()
    groups = [{"params": list(model.parameters())}]
    return Trainer(model, nn.CrossEntropyLoss(), groups, cfg, tmp, seed=3, checkpoint_every=every)


CFG = TrainConfig(
    epochs=3,
    batch_size=8,
    lr=0.05,
    optimizer="sgd",
    schedule="cosine",
    warmup_steps=2,
    grad_accum=2,
)


def test_learns_and_keeps_best(tmp_path: Path) -> None:
    cfg = CFG.model_copy(
        update={"epochs": 8, "optimizer": "adamw", "lr": 0.05, "schedule": "constant"}
    )
    result = _trainer(tmp_path, cfg).fit(_data(), _data(48, seed=1))
    assert len(result.history) == 8
    assert result.history[0]["val.loss"] > result.history[-1]["val.loss"]
    assert max(r["val.accuracy"] for r in result.history) > 0.85
    assert result.best_model is not None and result.best_model.is_file()
    assert result.global_step == 8 * 6  # 12 batches per epoch, 2 per step


class _KilledError(Exception):
    pass


def test_resume_after_interruption_is_bit_identical(tmp_path: Path) -> None:
    ref = _trainer(tmp_path / "a", CFG)
    ref_result = ref.fit(_data(), _data(48, seed=1))
    expected = {k: v.clone() for k, v in ref.model.state_dict().items()}

    killed = _trainer(tmp_path / "b", CFG, every=1)
    original_step = killed._step

    def step_then_die() -> None:
        original_step()
        if killed.state.global_step == 8:  # mid-epoch 2, right after the checkpoint of step 7
            raise _KilledError

    killed._step = step_then_die  # type: ignore[method-assign]
    with pytest.raises(_KilledError):
        killed.fit(_data(), _data(48, seed=1))
    resumed = _trainer(tmp_path / "b", CFG, every=1)
    result = resumed.fit(_data(), _data(48, seed=1), resume=True)
    for k, v in resumed.model.state_dict().items():
        assert torch.equal(v, expected[k]), k
    assert result.history == ref_result.history


def test_early_stopping(tmp_path: Path) -> None:
    cfg = CFG.model_copy(
        update={
            "epochs": 30,
            "lr": 1e-6,
            "early_stopping": EarlyStoppingConfig(patience=2, min_delta=0.5),
        }
    )
    result = _trainer(tmp_path, cfg).fit(_data(), _data(48, seed=1))
    assert result.stopped_early and len(result.history) == 3


def test_nan_guard_names_the_step(tmp_path: Path) -> None:
    data = _data()
    data.inputs["x"][40] = np.nan
    with pytest.raises(TrainingDivergedError, match=r"loss became nan at epoch 1, optimizer step"):
        _trainer(tmp_path, CFG).fit(data, None)


def test_validates_every_n_steps_and_stops_mid_epoch(tmp_path: Path) -> None:
    cfg = CFG.model_copy(update={"epochs": 2, "eval_every_steps": 4})
    result = _trainer(tmp_path, cfg).fit(_data(), _data(48, seed=1))
    # 6 steps per epoch: evaluations at steps 4, 8, 12, plus the end of epoch 0 (step 6)
    assert [r["step"] for r in result.history] == [4, 6, 8, 12]
    assert all("train.loss" in r and "val.accuracy" in r for r in result.history)

    stop = EarlyStoppingConfig(metric="val.accuracy", mode="max", patience=1, min_delta=1.0)
    cfg = CFG.model_copy(update={"epochs": 3, "eval_every_steps": 1, "early_stopping": stop})
    result = _trainer(tmp_path / "stop", cfg).fit(_data(), _data(48, seed=1))
    assert result.stopped_early and result.global_step == 2  # inside the first epoch


def test_epoch_lines_in_logs_and_quiet_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from domainfit.progress import silenced

    cfg = CFG.model_copy(update={"epochs": 2})
    _trainer(tmp_path / "a", cfg).fit(_data(), _data(48, seed=1))
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "val.accuracy" in err
    with silenced():
        _trainer(tmp_path / "b", cfg).fit(_data(), _data(48, seed=1))
    assert capsys.readouterr().err == ""
