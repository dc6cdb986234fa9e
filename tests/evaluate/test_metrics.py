from __future__ import annotations

import numpy as np
import pytest

from domainfit.evaluate.bootstrap import bootstrap_ci, mcnemar, paired_comparison
from domainfit.evaluate.metrics import (
    classification_metrics,
    confusion,
    expected_calibration_error,
    most_confused,
    regression_metrics,
)


def _proba(pred: np.ndarray, n_classes: int, conf: float = 0.8) -> np.ndarray:
    p = np.full((len(pred), n_classes), (1 - conf) / (n_classes - 1))
    p[np.arange(len(pred)), pred] = conf
    return p


def test_classification_metrics_match_hand_counts() -> None:
    y = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([0, 0, 1, 1, 1, 0])
    m = classification_metrics(y, _proba(pred, 3))
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert 0 <= m["roc_auc"] <= 1 and 0 <= m["pr_auc"] <= 1
    cm = confusion(y, _proba(pred, 3))
    assert cm.tolist() == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    top = most_confused(cm, ["a", "b", "c"])
    assert {(t["true"], t["predicted"]) for t in top} == {("a", "b"), ("c", "a")}


def test_auc_left_out_when_a_class_is_missing() -> None:
    m = classification_metrics(np.array([0, 0, 1]), _proba(np.array([0, 1, 1]), 3))
    assert "roc_auc" not in m and "accuracy" in m


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    y = np.array([0] * 8 + [1] * 2)  # always predicts 0 with confidence 0.8: 80% right
    assert expected_calibration_error(y, _proba(np.zeros(10, dtype=int), 2)) == pytest.approx(0)
    overconfident = _proba(np.zeros(10, dtype=int), 2, conf=1.0)
    assert expected_calibration_error(y, overconfident) == pytest.approx(0.2)


def test_regression_metrics() -> None:
    m = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
    assert m["mae"] == pytest.approx(2 / 3) and m["rmse"] == pytest.approx(np.sqrt(4 / 3))


def test_bootstrap_ci_covers_the_value_and_narrows_with_more_samples() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    pred = np.where(rng.random(2000) < 0.8, y, 1 - y)  # 80% right
    lo, hi = bootstrap_ci(lambda a, b: float((b.argmax(1) == a).mean()), y, _proba(pred, 2))
    assert lo < 0.8 < hi and hi - lo < 0.05
    lo_s, hi_s = bootstrap_ci(
        lambda a, b: float((b.argmax(1) == a).mean()), y[:100], _proba(pred[:100], 2)
    )
    assert hi_s - lo_s > hi - lo


def test_paired_comparison_finds_a_real_gap_and_not_a_fake_one() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 1000)
    good = np.where(rng.random(1000) < 0.9, y, 1 - y)
    bad = np.where(rng.random(1000) < 0.7, y, 1 - y)
    cmp = paired_comparison(y, _proba(good, 2), _proba(bad, 2))
    assert cmp.significant and cmp.diff > 0.1 and cmp.p_mcnemar is not None
    assert cmp.p_mcnemar < 1e-6
    assert cmp.sentence("good", "bad").startswith("good beats bad on accuracy by")
    same = paired_comparison(y, _proba(good, 2), _proba(good, 2))
    assert not same.significant
    assert same.sentence().startswith("no significant difference")


def test_mcnemar_symmetric_disagreement_is_not_significant() -> None:
    y = np.zeros(20, dtype=int)
    a = np.array([0] * 10 + [1] * 10)
    b = np.array([1] * 10 + [0] * 10)
    assert mcnemar(y, a, b) == pytest.approx(1.0)
