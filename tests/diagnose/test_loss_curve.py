"""``lr_too_high`` against batch noise: a healthy batch-16 curve full of single-batch jumps
raises nothing; blow-ups the loss stays up after, and a climbing curve, still do."""

from __future__ import annotations

import math

import pytest

from domainfit.diagnose.loss_curve import outliers
from domainfit.diagnose.lr_findings import lr_findings
from tests.diagnose import planted

CHANCE = math.log(2)
RUN = {"train": {"batch_size": 16, "grad_accum": 1, "lr": 5e-5, "clip_grad_norm": 1.0}}


@pytest.mark.parametrize("seed", range(5))
def test_noisy_healthy_batch16_curve_raises_nothing(seed: int) -> None:
    losses = planted.batch_losses(batch=16, seed=seed)
    found = lr_findings(losses, CHANCE, None, RUN)
    assert [f.code for f in found] == []
    # the noise is there: single-batch jumps the old 2.5x-the-running-median rule called spikes
    assert outliers(losses) and not any(o.sustained for o in outliers(losses))


@pytest.mark.parametrize("seed", range(3))
def test_repeated_blow_ups_raise_lr_too_high(seed: int) -> None:
    losses = planted.blow_ups(planted.batch_losses(batch=16, seed=seed))
    (f,) = lr_findings(losses, CHANCE, None, RUN)
    assert f.code == "lr_too_high" and f.severity == "medium"
    assert f.evidence["spikes"] >= 5  # one per blow-up, not one per step of each
    assert f.evidence["effective_batch_size"] == 16
    assert f.fix.startswith("train.lr: 5e-06-2e-05 (3-10x lower than 5e-05")
    assert "clip_grad_norm" not in f.fix  # already on


def test_a_climbing_curve_is_high_even_without_chance() -> None:
    losses = planted.diverging(planted.batch_losses(batch=16, seed=0))
    (f,) = lr_findings(losses, None, None, RUN)  # a regression loss: no chance level
    assert f.code == "lr_too_high" and f.severity == "high" and f.evidence["diverging"]


def test_isolated_outliers_are_reported_as_batch_noise_when_something_else_fires() -> None:
    losses = planted.blow_ups(planted.batch_losses(batch=16, seed=1))
    (f,) = lr_findings(losses, CHANCE, None, RUN)
    assert f.evidence["batch_outliers"] == len(outliers(losses)) - f.evidence["spikes"]


def test_a_lone_jump_counts_when_no_sane_batch_carries_that_much() -> None:
    # lr 1.0 on easy data: most batches at loss ~0 (saturated logits), a few at 2-3 nats. At
    # batch size 32 that is 80 nats in one batch: blown-up logits. At batch size 2 it is one
    # hard sample, which the same curve must not be blamed for.
    losses = [1e-6] * 200
    for step in range(30, 200, 40):
        losses[step] = 2.5
    (f,) = lr_findings(losses, CHANCE, None, {"train": {"batch_size": 32}})
    assert f.severity == "medium" and f.evidence["spikes"] == 5
    assert lr_findings(losses, CHANCE, None, {"train": {"batch_size": 2}}) == []
