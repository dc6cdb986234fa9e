"""The low-rank (dual / feature-space) forms of TCA, JDA and CORAL: the direct forms' answers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg

from domainfit.adapt.classic_align import coral_recolor
from domainfit.adapt.classic_jda import jda
from domainfit.adapt.classic_lowrank import choose_form, low_rank_basis
from domainfit.adapt.classic_tca import (
    embedding_basis,
    mmd_directions,
    mmd_vectors,
    row_normalize,
    tca,
)


def pair(ns: int, nt: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ys = np.arange(ns) % 3
    centres = rng.normal(size=(3, d))
    xs = centres[ys] + 0.5 * rng.normal(size=(ns, d))
    xt = centres[np.arange(nt) % 3] + 0.5 * rng.normal(size=(nt, d)) + 0.7
    return xs, xt, ys


def direct_coral(xs: np.ndarray, xt: np.ndarray, eps: float) -> np.ndarray:
    """The textbook d x d form, kept here as the reference."""
    eye = np.eye(xs.shape[1])
    cs = np.cov(xs, rowvar=False) + eps * eye
    ct = np.cov(xt, rowvar=False) + eps * eye
    return xs @ (scipy.linalg.fractional_matrix_power(cs, -0.5) @ scipy.linalg.sqrtm(ct)).real


def nn_accuracy(zs: np.ndarray, ys: np.ndarray, zt: np.ndarray, yt: np.ndarray) -> float:
    d2 = (zt**2).sum(1)[:, None] - 2 * zt @ zs.T + (zs**2).sum(1)[None, :]
    return float((ys[d2.argmin(axis=1)] == yt).mean())


def test_choose_form_picks_dual_when_fewer_samples_than_features() -> None:
    assert choose_form("primal", n=452, d=4096) == "dual"
    assert choose_form("primal", n=3800, d=256) == "direct"
    assert choose_form("linear", n=3800, d=256) == "feature"
    assert choose_form("linear", n=100, d=4096) == "direct"
    assert choose_form("rbf", n=100, d=4096) == "direct"


@pytest.mark.parametrize(("kernel", "d"), [("primal", 120), ("linear", 8)])
def test_low_rank_directions_match_direct(kernel: str, d: int) -> None:
    xs, xt, ys = pair(25, 20, d)
    x = row_normalize(np.vstack([xs, xt]))
    k = embedding_basis(xs, xt, kernel, None, True)
    basis = low_rank_basis(x, kernel)
    assert basis is not None and basis.y.shape[1] < k.shape[1]
    e = mmd_vectors(25, 20, ys, np.arange(20) % 3)
    dim = 5 if kernel == "primal" else 4
    a_direct, nu_direct = mmd_directions(k, e, dim, 1.0)
    a_low, nu_low = mmd_directions(k, e, dim, 1.0, basis)
    np.testing.assert_allclose(nu_low, nu_direct, rtol=1e-8)
    np.testing.assert_allclose(a_low, a_direct, atol=1e-7)


def test_tca_and_jda_use_the_dual_form_with_the_same_embedding() -> None:
    xs, xt, ys = pair(30, 24, 300)
    zs, zt = tca(xs, xt, 6, kernel="primal")
    k = embedding_basis(xs, xt, "primal", None, False)
    w, _ = mmd_directions(k, mmd_vectors(30, 24), 6, 1.0)
    np.testing.assert_allclose(np.vstack([zs, zt]), k @ w, atol=1e-8)
    r = jda(xs, ys, xt, 6, iterations=3, kernel="primal")
    assert r.zs.shape == (30, 6) and len(r.history) == 3


def test_coral_low_rank_matches_d_by_d_form() -> None:
    xs, xt, _ = pair(12, 15, 40)  # n < d: rank-deficient covariances
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = coral_recolor(xs, xt, eps=0.3)
    np.testing.assert_allclose(got, direct_coral(xs, xt, 0.3), atol=1e-8)


def test_coral_warns_when_eps_makes_it_a_no_op_and_relative_adapts() -> None:
    rng = np.random.default_rng(1)
    # Unit rows of 60 features (like the digits' protocol): tr(cov) <= 1, so eps = 1 swamps it.
    xs = row_normalize(rng.random((40, 60)) ** 2)
    xt = row_normalize(rng.random((40, 60)))

    def gap(z: np.ndarray) -> float:  # how far the source covariance is from the target's
        return float(np.linalg.norm(np.cov(z, rowvar=False) - np.cov(xt, rowvar=False)))

    with pytest.warns(UserWarning, match="close to the identity"):
        same = coral_recolor(xs, xt, eps=1.0)
    assert gap(same) > 0.9 * gap(xs)  # eps = 1: barely aligned
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        moved = coral_recolor(xs, xt, eps=1.0, relative=True)
    assert gap(moved) < 0.5 * gap(xs)
