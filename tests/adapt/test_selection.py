"""Pseudo-label selection and the label-free validators."""

from __future__ import annotations

import numpy as np
import pytest

from domainfit.adapt.self_training import UNLABELLED, fraction_at, select_pseudo_labels
from domainfit.adapt.validators import information_maximization, snd, validator_score
from domainfit.config import SelfTrainingConfig


def test_class_balanced_selection_keeps_each_class_share() -> None:
    # 8 samples predicted class 0 (confident), 2 predicted class 1 (less confident)
    probs = np.array([[0.99 - i * 0.01, 0.01 + i * 0.01] for i in range(8)] + [[0.3, 0.7]] * 2)
    balanced = select_pseudo_labels(probs, threshold=0.5, fraction=0.5)
    assert (balanced == 0).sum() == 4 and (balanced == 1).sum() == 1
    assert list(balanced[:4]) == [0, 0, 0, 0]  # the most confident of class 0
    plain = select_pseudo_labels(probs, threshold=0.5, fraction=0.5, class_balanced=False)
    assert (plain == 1).sum() == 0  # the easy class crowds the other out


def test_threshold_wins_over_fraction() -> None:
    probs = np.array([[0.6, 0.4], [0.55, 0.45], [0.2, 0.8]])
    out = select_pseudo_labels(probs, threshold=0.7, fraction=1.0)
    assert out.tolist() == [UNLABELLED, UNLABELLED, 1]


def test_fraction_grows_linearly_to_its_maximum() -> None:
    cfg = SelfTrainingConfig(enabled=True, fraction=0.2, max_fraction=0.8, start_epoch=1)
    assert fraction_at(1, 5, cfg) == pytest.approx(0.2)
    assert fraction_at(4, 5, cfg) == pytest.approx(0.8)
    assert fraction_at(2, 5, cfg) == pytest.approx(0.4)


def test_information_maximization_prefers_confident_diverse_predictions() -> None:
    rng = np.random.default_rng(0)
    confident = np.eye(3)[rng.integers(0, 3, 300)] * 0.9 + 0.1 / 3
    uniform = np.full((300, 3), 1 / 3)
    collapsed = np.tile([0.98, 0.01, 0.01], (300, 1))
    assert information_maximization(confident) > 0.5
    assert abs(information_maximization(uniform)) < 1e-9
    assert information_maximization(collapsed) < 0.05


def test_snd_rewards_dense_class_consistent_neighbourhoods() -> None:
    rng = np.random.default_rng(0)
    clustered = np.eye(4)[rng.integers(0, 4, 200)] * 0.9 + 0.1 / 4
    scattered = rng.dirichlet(np.ones(4), size=200)
    # clear-cut classes: each sample has many equally near neighbours, a flat (high-entropy)
    # neighbour distribution; scattered predictions have a few nearest ones
    assert snd(clustered) > snd(scattered)
    binary = rng.uniform(size=50)
    assert np.isfinite(snd(binary)) and np.isfinite(information_maximization(binary))


def test_unknown_validator_is_named() -> None:
    with pytest.raises(ValueError, match="known: im, snd"):
        validator_score("dev", np.full((4, 2), 0.5))
