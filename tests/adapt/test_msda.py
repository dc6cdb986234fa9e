"""mSDA: the closed-form denoising layer against a brute-force expectation over every
corruption pattern, its limits, and the stacked representation's shape and determinism."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from domainfit.adapt.msda import MSDA, apply_layer, denoising_weights, scatter_with_bias


def _data(n: int = 12, d: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((n, d)) < 0.5).astype(float) + 0.1 * rng.normal(size=(n, d))


def _expected_loss(w: np.ndarray, x: np.ndarray, p: float) -> float:
    """E sum_i ||x_i - W [x~_i, 1]||^2 over all 2^d masks, each with its probability."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    total = 0.0
    for mask in itertools.product((0.0, 1.0), repeat=d):
        m = np.array([*mask, 1.0])
        prob = np.prod([(1 - p) if k else p for k in mask])
        total += prob * float(((x - (xb * m) @ w.T) ** 2).sum())
    return total


def _brute_force_weights(x: np.ndarray, p: float) -> np.ndarray:
    """Least squares on every corrupted copy of every sample, weighted by its probability."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    rows, targets, weights = [], [], []
    for mask in itertools.product((0.0, 1.0), repeat=d):
        m = np.array([*mask, 1.0])
        prob = np.prod([(1 - p) if k else p for k in mask])
        rows.append(xb * m)
        targets.append(x)
        weights.append(np.full(n, prob))
    a, b, sw = np.vstack(rows), np.vstack(targets), np.sqrt(np.concatenate(weights))
    return np.linalg.lstsq(a * sw[:, None], b * sw[:, None], rcond=None)[0].T


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_closed_form_matches_brute_force_expectation(p: float) -> None:
    x = _data()
    w = denoising_weights(x, p, reg=0.0)
    assert w.shape == (3, 4)
    np.testing.assert_allclose(w, _brute_force_weights(x, p), atol=1e-8)


def test_closed_form_minimises_the_expected_loss() -> None:
    x, p = _data(), 0.5
    w = denoising_weights(x, p, reg=0.0)
    best = _expected_loss(w, x, p)
    identity = np.hstack([np.eye(3), np.zeros((3, 1))])
    assert best < _expected_loss(identity, x, p)
    rng = np.random.default_rng(1)
    for _ in range(20):
        assert best <= _expected_loss(w + 0.01 * rng.normal(size=w.shape), x, p) + 1e-12


def test_no_noise_gives_the_identity_map() -> None:
    x = _data(n=30, d=4)
    w = denoising_weights(x, 0.0, reg=1e-9)
    np.testing.assert_allclose(w, np.hstack([np.eye(4), np.zeros((4, 1))]), atol=1e-6)


def test_scatter_and_weights_agree_for_sparse_and_dense_inputs() -> None:
    x = (np.random.default_rng(2).random((40, 6)) < 0.3).astype(float)
    np.testing.assert_allclose(scatter_with_bias(sp.csr_matrix(x)), scatter_with_bias(x))
    dense = denoising_weights(x, 0.5)
    np.testing.assert_allclose(denoising_weights(sp.csr_matrix(x), 0.5), dense, atol=1e-10)
    np.testing.assert_allclose(
        denoising_weights(x, 0.5, dtype=np.float32), dense, atol=1e-4, rtol=1e-4
    )


def test_layer_output_is_tanh_of_the_reconstruction() -> None:
    x = _data(n=10, d=3)
    w = denoising_weights(x, 0.5)
    expected = np.tanh(np.hstack([x, np.ones((10, 1))]) @ w.T)
    np.testing.assert_allclose(apply_layer(w, x, np.float64), expected, atol=1e-12)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        apply_layer(w, np.ones((2, 4)))


def test_stack_shapes_and_determinism() -> None:
    x = sp.csr_matrix((np.random.default_rng(3).random((50, 8)) < 0.25).astype(float))
    m = MSDA(noise=0.5, layers=3).fit(x)
    z = m.transform(x)
    assert z.shape == (50, 8 * 4) and z.dtype == np.float32
    np.testing.assert_array_equal(z[:, :8], x.toarray())
    assert np.abs(z[:, 8:]).max() < 1
    assert m.transform(x, include_input=False).shape == (50, 24)
    again = MSDA(noise=0.5, layers=3)
    np.testing.assert_array_equal(again.fit_transform(x), z)
    outputs = MSDA(noise=0.5, layers=3).fit_layer_outputs(x)
    np.testing.assert_array_equal(np.hstack(outputs), z[:, 8:])
    for a, b in zip(m.weights, again.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="noise"):
        MSDA(noise=1.0)
    with pytest.raises(ValueError, match="layers"):
        MSDA(layers=0)
    with pytest.raises(ValueError, match="not fitted"):
        MSDA().transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        denoising_weights(np.array([[np.nan, 1.0]]), 0.5)
