"""A run killed in the middle of adaptation resumes to the same weights, discriminator,
pseudo-labels and history as the run that never stopped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from domainfit.adapt.adapter import Adapter, build_domain_loss
from domainfit.config import AdaptConfig, SelfTrainingConfig, TrainConfig
from domainfit.data.loaders import EncodedSet
from domainfit.train.trainer import Trainer


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.2))
        self.head = nn.Linear(16, 3)

    def features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.body(batch["x"])

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.features(batch))


def _data(n: int, seed: int, shift: float = 0.0) -> EncodedSet:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    y = np.digitize(x[:, 0] + 0.5 * x[:, 1], [-0.5, 0.5]).astype(np.int64)
    return EncodedSet({"x": x + shift}, y)


CFG = TrainConfig(epochs=3, batch_size=8, lr=0.05, optimizer="sgd", schedule="cosine")
ADAPT = AdaptConfig(
    method="dann",
    self_training=SelfTrainingConfig(enabled=True, threshold=0.0, start_epoch=1),
)


def _trainer(tmp: Path, every: int | None = None) -> Trainer:
    model = Net()
    torch.manual_seed(1)
    target = EncodedSet(_data(50, seed=2, shift=0.7).inputs, None)
    adapter = Adapter(ADAPT, target, build_domain_loss(ADAPT, 16, 3), 8, 3, CFG.epochs)
    groups = [{"params": list(model.parameters())}]
    return Trainer(
        model,
        nn.CrossEntropyLoss(),
        groups,
        CFG,
        tmp,
        seed=3,
        checkpoint_every=every,
        adapter=adapter,
    )


class _KilledError(Exception):
    pass


def test_resume_mid_adaptation_is_bit_identical(tmp_path: Path) -> None:
    ref = _trainer(tmp_path / "a")
    ref_result = ref.fit(_data(64, 0), _data(32, 1))
    expected = {k: v.clone() for k, v in ref.saved.state_dict().items()}
    assert any(k.startswith("adapt.") for k in expected)  # the discriminator is saved too
    assert ref.state.pseudo is not None and max(ref.state.pseudo) >= 0

    killed = _trainer(tmp_path / "b", every=1)
    original_step = killed._step

    def step_then_die() -> None:
        original_step()
        if killed.state.global_step == 12:  # mid-epoch 2, pseudo-labels already in use
            raise _KilledError

    killed._step = step_then_die  # type: ignore[method-assign]
    with pytest.raises(_KilledError):
        killed.fit(_data(64, 0), _data(32, 1))
    resumed = _trainer(tmp_path / "b", every=1)
    result = resumed.fit(_data(64, 0), _data(32, 1), resume=True)
    for k, v in resumed.saved.state_dict().items():
        assert torch.equal(v, expected[k]), k
    assert result.history == ref_result.history
    assert resumed.state.pseudo == ref.state.pseudo


def test_target_batches_cycle_through_the_pool_deterministically() -> None:
    pool = EncodedSet({"x": np.arange(20, dtype=np.float32)[:, None]}, None)
    adapter = Adapter(AdaptConfig(method="mmd"), pool, None, 8, 0, 3)
    per_cycle = 3  # 8 + 8 + 4
    seen = np.concatenate([adapter.target_batch(p, None)["x"][:, 0].numpy() for p in range(3)])
    assert sorted(seen.tolist()) == list(range(20))  # one cycle covers every sample once
    again = adapter.target_batch(per_cycle + 1, None)["x"]
    assert torch.equal(again, adapter.target_batch(per_cycle + 1, None)["x"])
    assert not torch.equal(adapter.target_batch(1, None)["x"], again)  # a new order per cycle
