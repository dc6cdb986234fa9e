"""The training loop reads losses from the device lazily: when (and how often) they are read, and
whether batches are built on a background thread, never changes a number."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from domainfit.config import TrainConfig
from domainfit.data.loaders import EncodedSet
from domainfit.train.prefetch import prefetch
from domainfit.train.trainer import FitResult, Trainer, TrainingDivergedError
from tests.train.test_trainer import CFG, _data, _trainer


def _fit(tmp: Path, cfg: TrainConfig, data: EncodedSet) -> tuple[Trainer, FitResult]:
    trainer = _trainer(tmp, cfg)
    return trainer, trainer.fit(data, _data(48, seed=1))


def _same(a: tuple[Trainer, FitResult], b: tuple[Trainer, FitResult]) -> None:
    (ta, ra), (tb, rb) = a, b
    assert ra.history == rb.history
    assert ra.step_losses == rb.step_losses and len(ra.step_losses) == ra.global_step
    assert ra.lr_trace == rb.lr_trace
    for key, value in ta.model.state_dict().items():
        assert torch.equal(value, tb.model.state_dict()[key]), key


def test_reading_losses_every_batch_changes_nothing(tmp_path: Path) -> None:
    cfg = CFG.model_copy(update={"eval_every_steps": 4})
    plain = _fit(tmp_path / "a", cfg, _data())
    eager = _trainer(tmp_path / "b", cfg)
    reads = []

    def read_now(running_loss: object) -> None:  # a bar redrawn after every micro-batch
        reads.append(eager._running_loss())

    original = eager._epoch

    def epoch(*args: object) -> None:  # fit builds its bar before the first epoch
        eager.bar.batch_done = read_now  # type: ignore[method-assign]
        original(*args)  # type: ignore[arg-type]

    eager._epoch = epoch  # type: ignore[method-assign]
    _same(plain, (eager, eager.fit(_data(), _data(48, seed=1))))
    assert len(reads) == 3 * 12 and all(np.isfinite(reads))


def test_batches_built_on_a_thread_train_the_same(tmp_path: Path) -> None:
    cfg = CFG.model_copy(update={"num_workers": 2})
    _same(_fit(tmp_path / "a", CFG, _data()), _fit(tmp_path / "b", cfg, _data()))


def test_prefetch_keeps_order_raises_where_it_failed_and_stops_its_thread() -> None:
    def batches(fail_at: int | None = None):  # type: ignore[no-untyped-def]
        for i in range(6):
            if i == fail_at:
                raise ValueError(f"bad batch {i}")
            yield {"x": torch.full((2,), float(i))}

    assert [int(b["x"][0]) for b in prefetch(batches(), 2)] == list(range(6))
    got = []
    with pytest.raises(ValueError, match="bad batch 3"):
        for b in prefetch(batches(fail_at=3), 2):
            got.append(int(b["x"][0]))
    assert got == [0, 1, 2]
    early = prefetch(batches(), 1)
    next(early)
    early.close()  # leaving the loop early ends the worker
    assert not any(t.name == "domainfit-prefetch" for t in threading.enumerate())


@pytest.mark.parametrize("lag", [1, 3])
def test_late_nan_guard_names_the_same_step_and_keeps_the_same_record(
    tmp_path: Path, lag: int
) -> None:
    """On a GPU the guard reads a step's loss a few steps later; the error, the step it names
    and ``losses.jsonl`` are those of the guard that reads before stepping (the CPU's)."""
    data = _data()
    data.inputs["x"][40] = np.nan
    errors, records = [], []
    for name, steps_late in (("now", 0), ("late", lag)):
        trainer = _trainer(tmp_path / name, CFG)
        trainer.losses.lag = steps_late
        with pytest.raises(TrainingDivergedError) as err:
            trainer.fit(data, None)
        errors.append(str(err.value).split(";")[0])
        records.append((tmp_path / name / "losses.jsonl").read_text())
    assert errors[0] == errors[1] and errors[0].startswith("loss became nan at epoch 1")
    assert records[0] == records[1]
    assert records[0].splitlines()[-1].endswith('"loss": null}')


def test_late_nan_guard_checks_before_a_checkpoint(tmp_path: Path) -> None:
    """A step that diverged is never saved, however late the guard reads."""
    data = _data()
    data.inputs["x"][40] = np.nan
    trainer = _trainer(tmp_path, CFG, every=1)
    trainer.losses.lag = 100
    with pytest.raises(TrainingDivergedError):
        trainer.fit(data, None)
    latest = (tmp_path / "checkpoints" / "latest").read_text().strip()
    failed_at = len((tmp_path / "losses.jsonl").read_text().splitlines()) - 1
    assert int(latest.split("-")[1]) == failed_at  # the checkpoint after the last good step


def test_loss_stays_on_the_device_between_reads(tmp_path: Path) -> None:
    """No read per batch: between validations the losses wait as tensors."""
    trainer = _trainer(tmp_path, CFG.model_copy(update={"epochs": 1}))
    seen: list[int] = []
    original = trainer._step

    def step() -> None:
        original()
        seen.append(trainer.losses.unread_batches)

    trainer._step = step  # type: ignore[method-assign]
    trainer.fit(_data(), None)
    assert seen == [2 * (i + 1) for i in range(6)]  # 2 micro-batches per step, none read yet
