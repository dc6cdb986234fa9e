"""Shift statistics: they read ~0 without shift, grow with it, and reject bad input.

Data come from generators seeded apart from the functions' own seeds, and every assertion has a
margin well beyond the spread seen over other data seeds, so the tests are not seed-tuned.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from domainfit.diagnose.shift_stats import (
    DomainGap,
    bbse_target_priors,
    domain_gap,
    median_bandwidth,
    mmd2,
    mmd_permutation_pvalue,
    prior_shift,
    proxy_a_distance,
    within_domain_reference,
)


def gaussians(n: int, d: int, shift: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, d)) + shift


# ------------------------------------------------------------------------------------------
# proxy A-distance


def test_pad_near_zero_for_one_distribution() -> None:
    fs, ft = gaussians(1000, 5, 0.0, seed=11)
    assert proxy_a_distance(fs, ft) < 0.3


def test_pad_near_two_for_separated_distributions() -> None:
    fs, ft = gaussians(500, 5, 3.0, seed=12)
    assert proxy_a_distance(fs, ft) > 1.8


def test_pad_grows_with_shift() -> None:
    rng = np.random.default_rng(13)
    fs, noise = rng.normal(size=(1000, 5)), rng.normal(size=(1000, 5))
    # Same target noise for every shift, so only the shift differs between the three values.
    pads = [proxy_a_distance(fs, noise + s) for s in (0.1, 0.25, 0.5)]
    assert pads[0] < pads[1] < pads[2]
    assert pads[2] - pads[0] > 0.3


def test_pad_dense_and_sparse_agree_below_svd_width() -> None:
    fs, ft = gaussians(200, 4, 0.4, seed=14)
    dense = proxy_a_distance(fs, ft, seed=3)
    assert proxy_a_distance(sp.csr_matrix(fs), sp.coo_array(ft), seed=3) == pytest.approx(dense)


def test_pad_sparse_wide_input_goes_through_svd() -> None:
    def sparse(seed: int) -> sp.csr_array:
        return sp.csr_array(sp.random(300, 3000, density=0.01, random_state=seed))

    fs, same = sparse(1), sparse(2)
    # Target-only mass in the first 50 columns (about 15 extra non-zeros per row).
    extra = sp.hstack([sp.random(300, 50, density=0.3, random_state=4), sp.csr_array((300, 2950))])
    shifted = sparse(3) + sp.csr_array(extra)
    assert proxy_a_distance(fs, same) < 0.4
    assert proxy_a_distance(fs, shifted) > 1.5


def test_pad_uses_equal_domain_sizes() -> None:
    # 900 vs 100 rows of one distribution: a classifier predicting "source" always would score
    # 90% accuracy (PAD 1.6) if the domains were not subsampled to equal sizes.
    rng = np.random.default_rng(15)
    assert proxy_a_distance(rng.normal(size=(900, 3)), rng.normal(size=(100, 3))) < 0.5


# ------------------------------------------------------------------------------------------
# MMD


def test_mmd2_matches_the_unbiased_formula() -> None:
    fs, ft = gaussians(14, 3, 0.5, seed=21)
    ft = ft[:11]  # unequal sizes
    bw = 1.3
    k = lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * bw**2))  # noqa: E731
    m, n = len(fs), len(ft)
    xx = sum(k(fs[i], fs[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    yy = sum(k(ft[i], ft[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    xy = sum(k(a, b) for a in fs for b in ft) / (m * n)
    assert mmd2(fs, ft, bandwidth=bw) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)


def test_median_bandwidth_is_median_pairwise_distance() -> None:
    x = np.random.default_rng(22).normal(size=(15, 4))
    dists = [np.linalg.norm(x[i] - x[j]) for i, j in itertools.combinations(range(15), 2)]
    assert median_bandwidth(x) == pytest.approx(np.median(dists))
    assert median_bandwidth(np.ones((10, 3))) == 1.0  # all rows equal: kernel stays defined


def test_mmd2_near_zero_without_shift_and_positive_with_shift() -> None:
    fs, ft = gaussians(500, 5, 0.0, seed=23)
    bw = median_bandwidth(np.vstack([fs, ft]))
    same = mmd2(fs, ft, bandwidth=bw)
    shifted = mmd2(fs, ft + 0.5, bandwidth=bw)
    assert abs(same) < 0.005
    assert shifted > 0.03
    assert shifted > 10 * abs(same)


def test_mmd2_is_unbiased_on_average() -> None:
    # The biased (V-statistic) estimate averages about 2 (1 - E k) / n > 0.02 here.
    vals = [mmd2(*gaussians(40, 2, 0.0, seed=100 + r), bandwidth=1.5) for r in range(40)]
    assert abs(np.mean(vals)) < 3 * np.std(vals) / np.sqrt(len(vals))
    assert abs(np.mean(vals)) < 0.01


def test_permutation_pvalue_large_without_shift_small_with_shift() -> None:
    fs, ft = gaussians(300, 4, 0.0, seed=24)
    assert mmd_permutation_pvalue(fs, ft) > 0.05
    assert mmd_permutation_pvalue(fs, ft + 0.5) < 0.01


def test_permutation_pvalue_is_calibrated_under_the_null() -> None:
    ps = np.array(
        [
            mmd_permutation_pvalue(*gaussians(50, 3, 0.0, seed=200 + r), permutations=99, seed=r)
            for r in range(30)
        ]
    )
    assert (ps < 0.05).mean() <= 0.2  # about 0.05 expected; a leaky test rejects far more
    assert 0.25 < ps.mean() < 0.75  # roughly uniform
    assert ps.min() >= 1 / 100  # never 0: (1 + exceed) / (1 + permutations)


# ------------------------------------------------------------------------------------------
# within-domain reference and domain_gap


def test_within_domain_reference_splits_into_disjoint_halves() -> None:
    f = np.arange(11, dtype=float)[:, None]
    seen: dict[str, np.ndarray] = {}

    def stat(a: np.ndarray, b: np.ndarray) -> float:
        seen["a"], seen["b"] = a.ravel(), b.ravel()
        return float(len(a) - len(b))

    assert within_domain_reference(f, stat, seed=1) == 0.0
    assert len(seen["a"]) == 5
    assert not set(seen["a"]) & set(seen["b"])


def test_domain_gap_without_shift() -> None:
    fs, ft = gaussians(1500, 5, 0.0, seed=31)
    gap = domain_gap(fs, ft)
    assert isinstance(gap, DomainGap)
    assert gap.ratio < 2
    assert abs(gap.mmd2) < 0.005 and abs(gap.mmd2_within) < 0.005
    assert gap.bandwidth > 0


def test_domain_gap_with_shift() -> None:
    fs, ft = gaussians(800, 5, 0.5, seed=32)
    gap = domain_gap(fs, ft)
    assert gap.ratio > 3
    assert gap.mmd2 > 10 * max(abs(gap.mmd2_within), 1e-4)


def test_ratio_floors_the_within_pad() -> None:
    gap = DomainGap(pad=0.5, mmd2=0.1, pad_within=0.0, mmd2_within=0.0, bandwidth=1.0)
    assert gap.ratio == pytest.approx(10.0)
    assert DomainGap(0.5, 0.1, 0.25, 0.0, 1.0).ratio == pytest.approx(2.0)


# ------------------------------------------------------------------------------------------
# label shift

CONFUSION = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])  # P(yhat | y), rows y


def simulate(priors: list[float], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=priors)
    u = rng.random(n)[:, None]
    pred = (u > CONFUSION[y].cumsum(axis=1)).sum(axis=1)  # inverse-CDF draw per row
    return y, pred


def test_bbse_recovers_planted_target_priors() -> None:
    val_y, val_pred = simulate([0.5, 0.3, 0.2], 30_000, seed=41)
    _, tgt_pred = simulate([0.2, 0.3, 0.5], 30_000, seed=42)
    q = bbse_target_priors(val_pred, val_y, tgt_pred, 3)
    np.testing.assert_allclose(q, [0.2, 0.3, 0.5], atol=0.05)
    # The naive estimate, the target prediction histogram (0.27, 0.33, 0.40 in expectation), is
    # off by more than that.
    naive = np.bincount(tgt_pred, minlength=3) / len(tgt_pred)
    assert np.abs(naive - [0.2, 0.3, 0.5]).max() > 0.07


def test_bbse_returns_source_priors_without_shift() -> None:
    val_y, val_pred = simulate([0.5, 0.3, 0.2], 30_000, seed=43)
    _, tgt_pred = simulate([0.5, 0.3, 0.2], 30_000, seed=44)
    np.testing.assert_allclose(
        bbse_target_priors(val_pred, val_y, tgt_pred, 3), [0.5, 0.3, 0.2], atol=0.03
    )


def test_bbse_is_exact_on_exact_counts() -> None:
    # 1000 validation rows whose joint counts are exactly 1000 * CONFUSION * p, and target
    # predictions whose histogram is exactly 1000 * CONFUSION' q, so C w = mu holds exactly.
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    counts = np.rint(1000 * CONFUSION * p[:, None]).astype(int)  # [y, yhat]
    val_y = np.repeat(np.repeat(np.arange(3), 3), counts.ravel())
    val_pred = np.repeat(np.tile(np.arange(3), 3), counts.ravel())
    mu_counts = np.rint(1000 * CONFUSION.T @ q).astype(int)
    tgt_pred = np.repeat(np.arange(3), mu_counts)
    np.testing.assert_allclose(bbse_target_priors(val_pred, val_y, tgt_pred, 3), q, atol=1e-12)


def test_bbse_accepts_probabilities() -> None:
    val_y, val_pred = simulate([0.5, 0.3, 0.2], 3000, seed=45)
    _, tgt_pred = simulate([0.2, 0.3, 0.5], 3000, seed=46)

    def probs(pred: np.ndarray) -> np.ndarray:
        out = np.full((len(pred), 3), 0.2)
        out[np.arange(len(pred)), pred] = 0.6
        return out

    hard = bbse_target_priors(val_pred, val_y, tgt_pred, 3)
    soft = bbse_target_priors(probs(val_pred), val_y, probs(tgt_pred), 3)
    np.testing.assert_allclose(soft, hard)


def test_bbse_singular_confusion_still_gives_priors() -> None:
    # The classifier never predicts class 2, so C has a zero row: pseudo-inverse territory.
    val_y = np.array([0, 1, 2] * 50)
    val_pred = np.array([0, 1, 1] * 50)
    q = bbse_target_priors(val_pred, val_y, np.array([0] * 30 + [1] * 70), 3)
    assert np.all(np.isfinite(q)) and np.all(q >= 0)
    assert q.sum() == pytest.approx(1.0)


def test_prior_shift_hand_checked() -> None:
    out = prior_shift(np.array([0.5, 0.5]), np.array([0.25, 0.75]))
    assert out["total_variation"] == pytest.approx(0.25)
    assert out["max_abs_difference"] == pytest.approx(0.25)
    # 0.25 ln(0.25 / 0.5) + 0.75 ln(0.75 / 0.5) = 0.130812...
    assert out["kl_q_p"] == pytest.approx(0.25 * np.log(0.5) + 0.75 * np.log(1.5), abs=1e-5)
    same = prior_shift(np.array([2.0, 1.0, 1.0]), np.array([0.5, 0.25, 0.25]))  # counts are fine
    assert same == pytest.approx({"total_variation": 0, "max_abs_difference": 0, "kl_q_p": 0})
    assert np.isfinite(prior_shift(np.array([1.0, 0.0]), np.array([0.5, 0.5]))["kl_q_p"])


# ------------------------------------------------------------------------------------------
# validation

X = np.zeros((20, 3))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: proxy_a_distance(X, np.zeros((20, 4))), "3 features but ft has 4"),
        (lambda: proxy_a_distance(X, np.zeros((9, 3))), "ft has 9 rows"),
        (lambda: proxy_a_distance(np.zeros(20), X), "2-D"),
        (lambda: proxy_a_distance(X, np.full((20, 3), np.nan)), "NaN"),
        (lambda: proxy_a_distance(X, X, folds=21), "folds=21"),
        (lambda: proxy_a_distance(X, X.astype(str)), "numeric"),
        (lambda: mmd2(X, np.zeros((5, 3))), "ft has 5 rows"),
        (lambda: mmd2(X, X, bandwidth=0.0), "bandwidth"),
        (lambda: mmd2(X, np.zeros((20, 2))), "same feature extractor"),
        (lambda: mmd_permutation_pvalue(X, X, permutations=0), "permutations"),
        (lambda: within_domain_reference(np.zeros((3, 2)), mmd2), "f has 3 rows"),
        (lambda: domain_gap(np.zeros((15, 3)), X), "at least 20 source rows"),
        (lambda: bbse_target_priors([0, 1], [0], [0], 2), "same samples"),
        (lambda: bbse_target_priors([0, 1], [0, 2], [0], 2), "outside"),
        (lambda: bbse_target_priors(np.ones((2, 3)), [0, 1], [0], 2), "3 probability columns"),
        (lambda: bbse_target_priors([0, 1], [0, 1], [], 2), "empty"),
        (lambda: prior_shift(np.ones(2), np.ones(3)), "shape"),
        (lambda: prior_shift(np.array([0.5, -0.5]), np.ones(2)), "not a distribution"),
    ],
)
def test_bad_input_raises_one_line_value_error(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)
