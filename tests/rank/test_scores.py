"""Transferability scores against brute-force references and on planted data."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from domainfit.rank.scores import (
    SCORES,
    SOURCE_SCORES,
    h_score,
    kendall_tau,
    knn_cv_accuracy,
    leep,
    linear_probe_cv_accuracy,
    logme,
    nce,
)


def _gaussians(
    n_per: int, dims: int, classes: int, gap: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dims)) * gap
    labels = np.repeat(np.arange(classes), n_per)
    return centres[labels] + rng.normal(size=(labels.size, dims)), labels


# ---------------------------------------------------------------------------------------------
# LogME


def _log_evidence_direct(
    f: np.ndarray, y: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """log N(y; 0, I/beta + F F^T/alpha) for each (alpha, beta) pair: the marginal likelihood
    written straight from the model, with explicit inverses and log-determinants."""
    n = f.shape[0]
    cov = np.eye(n)[None] / beta[:, None, None] + (f @ f.T)[None] / alpha[:, None, None]
    _, logdet = np.linalg.slogdet(cov)
    quad = np.einsum("i,kij,j->k", y, np.linalg.inv(cov), y)
    return np.asarray(-0.5 * (n * math.log(2 * math.pi) + logdet + quad))


def _grid_max_per_sample(f: np.ndarray, y: np.ndarray) -> float:
    """Maximum over a coarse log10 grid (1e-6..1e6, 0.2 steps), then a fine one (0.01 steps)."""
    best_a, best_b, best = 0.0, 0.0, -np.inf
    for span, steps, ca, cb in ((6.0, 61, 0.0, 0.0), (0.3, 61, None, None)):
        ca = best_a if ca is None else ca
        cb = best_b if cb is None else cb
        la, lb = np.meshgrid(
            np.linspace(ca - span, ca + span, steps),
            np.linspace(cb - span, cb + span, steps),
            indexing="ij",
        )
        vals = _log_evidence_direct(f, y, 10.0 ** la.ravel(), 10.0 ** lb.ravel())
        i = int(vals.argmax())
        best_a, best_b, best = la.ravel()[i], lb.ravel()[i], float(vals[i])
    return best / int(f.shape[0])


@pytest.mark.parametrize(("n", "d"), [(30, 3), (12, 20)])  # N > D and N < D code paths
def test_logme_matches_brute_force_evidence_maximum(n: int, d: int) -> None:
    rng = np.random.default_rng(n + d)
    f = rng.normal(size=(n, d))
    y = f @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    grid = _grid_max_per_sample(f, y)
    got = logme(f, y)
    assert got >= grid - 1e-6  # the fixed point is at least as good as any grid point
    assert got - grid < 1e-3  # ...and the fine grid gets close to it


def test_logme_classification_is_mean_over_one_hot_targets() -> None:
    rng = np.random.default_rng(1)
    f = rng.normal(size=(40, 5))
    labels = rng.integers(0, 3, size=40)
    per_column = [logme(f, (labels == c).astype(np.float64)) for c in range(3)]
    assert logme(f, labels) == pytest.approx(np.mean(per_column), rel=1e-12)
    one_hot = np.eye(3)[labels]
    assert logme(f, one_hot) == pytest.approx(np.mean(per_column), rel=1e-12)


def test_logme_prefers_features_that_predict_labels() -> None:
    rng = np.random.default_rng(2)
    good = rng.normal(size=(200, 10))
    labels = (good @ rng.normal(size=(10, 3))).argmax(axis=1)
    noise = rng.normal(size=(200, 10))
    assert logme(good, labels) > logme(noise, labels) + 0.05


def test_logme_invariant_to_sample_order() -> None:
    f, labels = _gaussians(30, 8, 3, 1.0, seed=3)
    perm = np.random.default_rng(4).permutation(labels.size)
    assert logme(f[perm], labels[perm]) == pytest.approx(logme(f, labels), rel=1e-9)


def test_logme_finite_when_dims_exceed_samples() -> None:
    f, labels = _gaussians(10, 300, 3, 1.0, seed=5)
    assert np.isfinite(logme(f, labels))


# ---------------------------------------------------------------------------------------------
# LEEP and NCE


def _leep_loop(probs: np.ndarray, labels: np.ndarray) -> float:
    n, n_source = probs.shape
    classes = sorted(set(labels.tolist()))
    joint = {(y, z): 0.0 for y in classes for z in range(n_source)}
    for i in range(n):
        for z in range(n_source):
            joint[labels[i], z] += probs[i, z] / n
    p_z = {z: sum(joint[y, z] for y in classes) for z in range(n_source)}
    total = 0.0
    for i in range(n):
        total += math.log(sum(joint[labels[i], z] / p_z[z] * probs[i, z] for z in range(n_source)))
    return total / int(n)


def test_leep_matches_loop() -> None:
    rng = np.random.default_rng(6)
    probs = rng.dirichlet(np.ones(5), size=25)
    labels = rng.integers(0, 3, size=25)
    assert leep(probs, labels) == pytest.approx(_leep_loop(probs, labels), rel=1e-12)


def test_leep_perfect_source_near_zero_and_above_uninformative() -> None:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 4, size=200)
    mapping = np.array([2, 0, 3, 1])  # source class that each target class falls into
    perfect = np.eye(4)[mapping[labels]]
    assert leep(perfect, labels) == pytest.approx(0.0, abs=1e-12)
    confident = 0.9 * perfect + 0.1 / 4
    uninformative = rng.dirichlet(np.ones(4), size=200)
    # Each sample's expected empirical prediction is about 0.925**2 + 3 * 0.025**2 = 0.857.
    assert leep(confident, labels) == pytest.approx(math.log(0.925**2 + 3 * 0.025**2), abs=0.01)
    assert leep(confident, labels) > leep(uninformative, labels) + 0.5


def test_nce_zero_when_predictions_determine_labels() -> None:
    z = np.arange(60) % 6
    assert nce(z, z % 2) == pytest.approx(0.0, abs=1e-12)


def test_nce_is_minus_label_entropy_for_constant_predictions() -> None:
    labels = np.repeat([0, 1, 2], [10, 20, 30])
    p = np.array([10, 20, 30]) / 60
    assert nce(np.zeros(60, dtype=int), labels) == pytest.approx(float((p * np.log(p)).sum()))


# ---------------------------------------------------------------------------------------------
# H-score


@pytest.mark.parametrize("shrinkage", [True, False])
def test_h_score_higher_for_separated_classes(shrinkage: bool) -> None:
    f, labels = _gaussians(50, 5, 3, 5.0, seed=8)
    noise = np.random.default_rng(9).normal(size=f.shape)
    separated = h_score(f, labels, shrinkage=shrinkage)
    assert separated > 1.5  # at most C - 1 = 2
    assert h_score(noise, labels, shrinkage=shrinkage) < 0.2


def test_h_score_high_dimension_finite_and_shrinkage_resists_noise() -> None:
    rng = np.random.default_rng(10)
    noise = rng.normal(size=(40, 200))
    labels = np.arange(40) % 3
    plain = h_score(noise, labels, shrinkage=False)
    shrunk = h_score(noise, labels, shrinkage=True)
    assert np.isfinite(plain) and np.isfinite(shrunk)
    # With D > N any labelling is separable: the plain score saturates at C - 1 on pure noise.
    assert plain == pytest.approx(2.0, abs=1e-3)
    assert shrunk < 0.5


# ---------------------------------------------------------------------------------------------
# cross-validated probes


@pytest.mark.parametrize("probe", [knn_cv_accuracy, linear_probe_cv_accuracy])
def test_probe_accuracy_separated_vs_noise(probe: Callable[..., float]) -> None:
    f, labels = _gaussians(40, 8, 3, 4.0, seed=11)
    noise = np.random.default_rng(12).normal(size=f.shape)
    assert probe(f, labels) >= 0.95
    assert abs(probe(noise, labels) - 1 / 3) < 0.15


@pytest.mark.parametrize("probe", [knn_cv_accuracy, linear_probe_cv_accuracy])
def test_probe_reduces_folds_for_small_class(probe: Callable[..., float]) -> None:
    f, labels = _gaussians(30, 4, 3, 4.0, seed=13)
    keep = np.r_[0:60, 60:63]  # third class keeps only 3 samples
    with pytest.warns(UserWarning, match="using 3 folds instead of 5"):
        acc = probe(f[keep], labels[keep])
    assert acc >= 0.9


@pytest.mark.parametrize("probe", [knn_cv_accuracy, linear_probe_cv_accuracy])
def test_probe_rejects_single_sample_class(probe: Callable[..., float]) -> None:
    f, labels = _gaussians(10, 4, 2, 4.0, seed=14)
    labels = labels.copy()
    labels[0] = 7
    with pytest.raises(ValueError, match="only 1 sample"):
        probe(f, labels)


# ---------------------------------------------------------------------------------------------
# Kendall's tau, registries, validation


def test_kendall_tau() -> None:
    assert kendall_tau([1.0, 2.0, 3.0, 5.0], [0.1, 0.2, 0.4, 0.5]) == pytest.approx(1.0)
    assert kendall_tau([1.0, 2.0, 3.0, 5.0], [0.5, 0.4, 0.2, 0.1]) == pytest.approx(-1.0)
    assert math.isnan(kendall_tau([1.0, 1.0, 1.0], [0.1, 0.2, 0.3]))
    assert math.isnan(kendall_tau([1.0], [0.1]))


def test_registries_call_with_features_and_labels() -> None:
    f, labels = _gaussians(20, 4, 2, 3.0, seed=15)
    assert set(SCORES) == {"logme", "hscore", "knn", "linear_probe"}
    for name, fn in SCORES.items():
        assert np.isfinite(fn(f, labels)), name
    probs = np.random.default_rng(16).dirichlet(np.ones(5), size=40)
    assert set(SOURCE_SCORES) == {"leep", "nce"}
    assert SOURCE_SCORES["leep"](probs, labels) == leep(probs, labels)
    assert SOURCE_SCORES["nce"](probs, labels) == nce(probs.argmax(axis=1), labels)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: logme(np.zeros(10), np.zeros(10, dtype=int)), "must be 2-d"),
        (lambda: logme(np.ones((10, 2)), np.zeros(9, dtype=int)), "10 rows but labels has 9"),
        (lambda: logme(np.ones((4, 2)), np.zeros((4, 2), dtype=int)), "must be 1-d"),
        (lambda: logme(np.full((4, 2), np.nan), np.zeros(4, dtype=int)), "NaN or inf"),
        (lambda: h_score(np.ones((4, 2)), np.zeros((4, 1), dtype=int)), "must be 1-d"),
        (lambda: h_score(np.ones((4, 2)), np.array([0.5, 1.5, 0.0, 1.0])), "continuous"),
        (lambda: leep(np.ones((4, 3)), np.zeros(4, dtype=int)), "summing to 1"),
        (lambda: leep(np.full((4, 2), 0.5), np.zeros(5, dtype=int)), "4 rows but labels has 5"),
        (lambda: nce(np.zeros(4), np.zeros(4, dtype=int)), "integer class ids"),
        (lambda: nce(np.zeros((4, 2), dtype=int), np.zeros(4, dtype=int)), "1-d hard"),
        (lambda: knn_cv_accuracy(np.ones((6, 2)), np.zeros(6, dtype=int)), "single class"),
        (lambda: kendall_tau([1.0, 2.0], [1.0]), "equally long"),
    ],
)
def test_input_validation(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
