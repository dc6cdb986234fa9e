"""How far apart two domains are: covariate shift in feature space and label (prior) shift.

Covariate shift is measured two ways on features ``fs`` (source) and ``ft`` (target):

* the proxy A-distance (Ben-David et al., "Analysis of representations for domain adaptation",
  NIPS 2007; Ganin et al., "Domain-adversarial training of neural networks", JMLR 2016): how
  well a linear classifier tells the domains apart, 0 when it cannot, 2 when it always can;
* the unbiased squared maximum mean discrepancy with a Gaussian kernel (Gretton et al., "A kernel
  two-sample test", JMLR 2012), with a permutation test for "no shift".

Neither number means much alone: finite samples of one distribution already give a positive
PAD, and its size depends on the sample size and dimension. :func:`domain_gap` therefore also
measures each statistic between two random halves of the source, the noise floor a gap is
compared against.

Label shift (p(y) changes, p(x | y) does not) is estimated with Black Box Shift Estimation
(Lipton, Wang and Smola, "Detecting and correcting for label shift with black box predictors",
ICML 2018) from a classifier's predictions on held-out source data and on the target.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist, pdist
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.preprocessing import StandardScaler

Features: TypeAlias = np.ndarray | sp.spmatrix | sp.sparray

MIN_ROWS = 10  # per domain, for PAD and MMD: fewer rows give a CV error that is mostly noise
MIN_HALVES_ROWS = 4  # two halves of at least 2 rows each
PAD_C_GRID = (0.01, 0.1, 1.0)
# feature widths above this are reduced before the classifier: at 1280 columns (EfficientNet
# features) three C values x 5 folds took 28 s per PAD on 2 cores, 256 SVD columns ~3 s
PAD_SVD_ABOVE = 512
PAD_SVD_DIMS = 256
RATIO_FLOOR = 0.05  # PAD floor in DomainGap.ratio: a near-zero within-domain PAD is not a scale
KL_EPS = 1e-6


# --------------------------------------------------------------------------------------------
# input checks and subsampling


def _check_2d(x: Features, name: str, min_rows: int) -> Features:
    # CSR: row indexing and the finiteness check on .data need a compressed format.
    x = sp.csr_array(x) if sp.issparse(x) else np.asarray(x)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise ValueError(f"{name} has dtype {x.dtype}; pass a numeric feature matrix")
    if x.ndim != 2:
        raise ValueError(
            f"{name} has shape {x.shape}; pass a 2-D (rows, features) matrix "
            "(reshape a single feature with x[:, None])"
        )
    if x.shape[0] < min_rows:
        raise ValueError(
            f"{name} has {x.shape[0]} rows, fewer than the {min_rows} needed; pass more samples"
        )
    if x.shape[1] < 1:
        raise ValueError(f"{name} has no feature columns; pass at least one feature")
    values = x.data if sp.issparse(x) else x
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values; impute or drop those rows")
    return x


def _check_pair(fs: Features, ft: Features, min_rows: int) -> tuple[Features, Features]:
    fs = _check_2d(fs, "fs", min_rows)
    ft = _check_2d(ft, "ft", min_rows)
    if fs.shape[1] != ft.shape[1]:
        raise ValueError(
            f"fs has {fs.shape[1]} features but ft has {ft.shape[1]}; "
            "embed both domains with the same feature extractor"
        )
    return fs, ft


def _check_positive_int(value: int, name: str, minimum: int) -> None:
    if int(value) != value or value < minimum:
        raise ValueError(f"{name}={value!r} is invalid; pass an integer >= {minimum}")


def _rng(seed: int, purpose: int) -> np.random.Generator:
    """A generator keyed by ``(seed, purpose)``.

    Not ``default_rng(seed)``: data simulated with that same call shares its bit stream, and a
    row shuffle drawn from it then picks rows by their values (seen in tests as a "shift"
    between two samples of one Gaussian). Separate purposes also keep subsampling, halving and
    permutations independent of each other.
    """
    return np.random.default_rng([purpose, seed])


_SUBSAMPLE, _BANDWIDTH, _HALVES, _PERMUTE = 1, 2, 3, 4


def _rows(x: Features, n: int, rng: np.random.Generator) -> Features:
    """At most ``n`` rows drawn without replacement (all rows, shuffled, when fewer)."""
    idx = rng.permutation(x.shape[0])[:n]
    if sp.issparse(x):
        return sp.csr_array(x)[idx]
    return x[idx]


def _dense(x: Features) -> np.ndarray:
    if sp.issparse(x):
        x = x.toarray()
    return np.asarray(x, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# proxy A-distance


def proxy_a_distance(
    fs: Features,
    ft: Features,
    *,
    seed: int = 0,
    max_per_domain: int = 2000,
    folds: int = 5,
) -> float:
    """Proxy A-distance ``PAD = 2 (1 - 2 err)``, clipped to [0, 2].

    ``err`` is the cross-validated error of a linear classifier (logistic regression) trained to
    tell source rows from target rows (Ben-David et al. 2007; Ganin et al. 2016). Both domains
    are subsampled to the same size, ``min(len(fs), len(ft), max_per_domain)``, so that chance
    error is exactly 0.5; features are standardised with statistics of the union. Features wider
    than 512 columns (dense or sparse) are first reduced to 256 with a truncated SVD fitted on
    the union. The regularisation strength is picked from ``C in (0.01, 0.1, 1)`` as the one with
    the lowest stratified ``folds``-fold CV error, which is then used as ``err``; taking the
    minimum of three noisy errors biases PAD slightly upward when there is no shift, a bias the
    within-domain reference of :func:`domain_gap` shares.
    """
    fs, ft = _check_pair(fs, ft, MIN_ROWS)
    _check_positive_int(max_per_domain, "max_per_domain", MIN_ROWS)
    _check_positive_int(folds, "folds", 2)
    rng = _rng(seed, _SUBSAMPLE)
    n = min(fs.shape[0], ft.shape[0], max_per_domain)
    if folds > n:
        raise ValueError(f"folds={folds} exceeds the {n} rows per domain; pass folds <= {n}")
    xs, xt = _rows(fs, n, rng), _rows(ft, n, rng)
    if sp.issparse(xs):
        union: Features = sp.vstack([xs, xt], format="csr")
    else:
        union = np.vstack([xs, xt])
    if union.shape[1] > PAD_SVD_ABOVE:
        # A linear classifier in thousands of dimensions on a few thousand rows is slow and its
        # CV error is dominated by overfitting; the leading directions keep most of the signal.
        dims = min(PAD_SVD_DIMS, min(union.shape) - 1)
        x = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(union)
    else:
        x = _dense(union)
    x = StandardScaler().fit_transform(np.asarray(x, dtype=np.float64))
    y = np.r_[np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)]
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    errors = []
    for c in PAD_C_GRID:
        clf = LogisticRegression(C=c, max_iter=2000)
        with warnings.catch_warnings():
            # separable domains make lbfgs warn about convergence; the error is still ~0
            warnings.simplefilter("ignore", ConvergenceWarning)
            acc = cross_val_score(clf, x, y, cv=cv, scoring="accuracy")
        errors.append(1.0 - float(acc.mean()))
    err = min(errors)
    return float(np.clip(2.0 * (1.0 - 2.0 * err), 0.0, 2.0))


# --------------------------------------------------------------------------------------------
# maximum mean discrepancy


def median_bandwidth(x: Features, *, max_rows: int = 2000, seed: int = 0) -> float:
    """Median heuristic: the median Euclidean distance between distinct rows of ``x``.

    Used as ``sigma`` in the Gaussian kernel ``k(a, b) = exp(-|a - b|^2 / (2 sigma^2))``
    (Gretton et al. 2012). At most ``max_rows`` rows are used, since cost grows as rows^2.
    Falls back to the mean non-zero distance when over half the pairs coincide, and to 1 when
    all rows are equal, so that the kernel stays defined.
    """
    x = _check_2d(x, "x", 2)
    _check_positive_int(max_rows, "max_rows", 2)
    xd = _dense(_rows(x, max_rows, _rng(seed, _BANDWIDTH)))
    dist = pdist(xd, metric="euclidean")
    median = float(np.median(dist))
    if median > 0:
        return median
    nonzero = dist[dist > 0]
    return float(nonzero.mean()) if nonzero.size else 1.0


def _check_bandwidth(bandwidth: float) -> float:
    if not np.isfinite(bandwidth) or bandwidth <= 0:
        raise ValueError(
            f"bandwidth={bandwidth!r} is invalid; pass a positive number or None for the median "
            "heuristic"
        )
    return float(bandwidth)


def _gaussian_gram(z: np.ndarray, bandwidth: float) -> np.ndarray:
    sq = cdist(z, z, metric="sqeuclidean")
    return np.exp(-sq / (2.0 * bandwidth * bandwidth))


def _mmd2_from_gram(gram_off: np.ndarray, gram: np.ndarray, is_x: np.ndarray) -> np.ndarray:
    """Unbiased MMD^2 for each column of the 0/1 assignment matrix ``is_x`` (N, P).

    ``gram_off`` is the Gram matrix with a zero diagonal (the unbiased estimator drops i = j).
    Writing a = is_x and b = 1 - a, the within sums are a' K0 a and b' K0 b and the cross sum is
    a' K b, so all P assignments cost one (N, N) x (N, P) product each.
    """
    a = is_x.astype(np.float64)
    b = 1.0 - a
    m, n = a.sum(0), b.sum(0)
    k0a, k0b = gram_off @ a, gram_off @ b
    sxx = (a * k0a).sum(0)
    syy = (b * k0b).sum(0)
    sxy = (a * (gram @ b)).sum(0)
    return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2.0 * sxy / (m * n)


def _mmd_inputs(
    fs: Features, ft: Features, seed: int, max_per_domain: int, bandwidth: float | None
) -> tuple[np.ndarray, int, float]:
    fs, ft = _check_pair(fs, ft, MIN_ROWS)
    _check_positive_int(max_per_domain, "max_per_domain", MIN_ROWS)
    rng = _rng(seed, _SUBSAMPLE)
    xs = _dense(_rows(fs, max_per_domain, rng))
    xt = _dense(_rows(ft, max_per_domain, rng))
    z = np.vstack([xs, xt])
    if bandwidth is None:
        bw = median_bandwidth(z, max_rows=z.shape[0])
    else:
        bw = _check_bandwidth(bandwidth)
    return z, xs.shape[0], bw


def mmd2(
    fs: Features,
    ft: Features,
    *,
    seed: int = 0,
    max_per_domain: int = 1000,
    bandwidth: float | None = None,
) -> float:
    """Unbiased squared MMD with a Gaussian kernel (Gretton et al. 2012, eq. 3):

    ``MMD_u^2 = 1/(m(m-1)) sum_{i!=j} k(x_i, x_j) + 1/(n(n-1)) sum_{i!=j} k(y_i, y_j)
    - 2/(mn) sum_{i,j} k(x_i, y_j)``.

    Each domain is subsampled to at most ``max_per_domain`` rows. Unbiased means it can be
    slightly negative when the distributions agree. ``bandwidth=None`` uses
    :func:`median_bandwidth` of the pooled subsample; pass one bandwidth to compare values.
    """
    z, m, bw = _mmd_inputs(fs, ft, seed, max_per_domain, bandwidth)
    gram = _gaussian_gram(z, bw)
    gram_off = gram.copy()
    np.fill_diagonal(gram_off, 0.0)
    is_x = (np.arange(z.shape[0]) < m)[:, None]
    return float(_mmd2_from_gram(gram_off, gram, is_x)[0])


def mmd_permutation_pvalue(
    fs: Features,
    ft: Features,
    *,
    permutations: int = 200,
    seed: int = 0,
    max_per_domain: int = 500,
    bandwidth: float | None = None,
) -> float:
    """Permutation p-value of "source and target are drawn from one distribution".

    Under that null the domain labels are exchangeable, so the observed unbiased MMD^2 is
    compared with its values after shuffling the labels of the pooled subsample (Gretton et al.
    2012, sec. 5). Returns ``(1 + #{perm >= observed}) / (1 + permutations)``, which is a valid
    p-value (never 0; its smallest value is ``1 / (permutations + 1)``). The bandwidth is fixed
    across permutations; the median heuristic on the pooled sample does not depend on labels.
    """
    _check_positive_int(permutations, "permutations", 1)
    z, m, bw = _mmd_inputs(fs, ft, seed, max_per_domain, bandwidth)
    gram = _gaussian_gram(z, bw)
    gram_off = gram.copy()
    np.fill_diagonal(gram_off, 0.0)
    total = z.shape[0]
    observed = _mmd2_from_gram(gram_off, gram, (np.arange(total) < m)[:, None])[0]
    rng = _rng(seed, _PERMUTE)
    exceed = 0
    for start in range(0, permutations, 64):  # batches bound the (N, batch) assignment memory
        batch = min(64, permutations - start)
        ranks = np.argsort(rng.random((total, batch)), axis=0)
        stats = _mmd2_from_gram(gram_off, gram, ranks < m)
        exceed += int((stats >= observed).sum())
    return (1 + exceed) / (1 + permutations)


# --------------------------------------------------------------------------------------------
# noise floor and the combined gap


def within_domain_reference(
    f: Features,
    stat: Callable[[Features, Features], float],
    *,
    seed: int = 0,
) -> float:
    """``stat`` between two random halves of one domain ``f``.

    Both halves come from one distribution, so this is what ``stat`` reads when there is no
    shift at (half) this sample size: the floor a cross-domain value is compared against.
    """
    f = _check_2d(f, "f", MIN_HALVES_ROWS)
    if not sp.issparse(f):
        # a repeated row landing in both halves is one point with both labels: it says
        # nothing about the floor, and the domain classifier crawls fitting it (30 s at 384-d)
        unique = np.unique(np.asarray(f), axis=0, return_index=True)[1]
        if len(unique) >= MIN_HALVES_ROWS:
            f = f[np.sort(unique)]
    order = _rng(seed, _HALVES).permutation(f.shape[0])
    half = f.shape[0] // 2  # an odd row out is dropped so that both halves weigh the same
    return float(stat(f[order[:half]], f[order[half : 2 * half]]))


@dataclass(frozen=True)
class DomainGap:
    """Covariate-shift statistics between two domains with their within-source noise floors.

    ``pad`` and ``mmd2`` compare source with target; ``pad_within`` and ``mmd2_within`` compare
    two halves of the source; both MMD values use the same Gaussian ``bandwidth``.
    """

    pad: float
    mmd2: float
    pad_within: float
    mmd2_within: float
    bandwidth: float

    @property
    def ratio(self) -> float:
        """``pad / max(pad_within, 0.05)``: about 1 or below means no shift beyond noise."""
        return self.pad / max(self.pad_within, RATIO_FLOOR)


def domain_gap(fs: Features, ft: Features, *, seed: int = 0) -> DomainGap:
    """PAD and unbiased MMD^2 between source and target, and the same between two random halves
    of the source (:func:`within_domain_reference`).

    The halves hold half the source rows, so their floor is if anything higher than the one at
    the cross-domain sample size, which makes ``ratio`` conservative. The bandwidth is the
    median heuristic on the pooled source and target subsample, shared by both MMD values so
    that they are on one scale.
    """
    fs, ft = _check_pair(fs, ft, MIN_ROWS)
    if fs.shape[0] < 2 * MIN_ROWS:
        raise ValueError(
            f"fs has {fs.shape[0]} rows; the within-source reference splits it in halves of "
            f"{MIN_ROWS}, so pass at least {2 * MIN_ROWS} source rows"
        )
    rng = _rng(seed, _SUBSAMPLE)
    pooled = np.vstack([_dense(_rows(fs, 1000, rng)), _dense(_rows(ft, 1000, rng))])
    bw = median_bandwidth(pooled, max_rows=pooled.shape[0])

    def pad_stat(a: Features, b: Features) -> float:
        return proxy_a_distance(a, b, seed=seed)

    def mmd_stat(a: Features, b: Features) -> float:
        return mmd2(a, b, seed=seed, bandwidth=bw)

    return DomainGap(
        pad=pad_stat(fs, ft),
        mmd2=mmd_stat(fs, ft),
        pad_within=within_domain_reference(fs, pad_stat, seed=seed),
        mmd2_within=within_domain_reference(fs, mmd_stat, seed=seed),
        bandwidth=bw,
    )


# --------------------------------------------------------------------------------------------
# label shift


def _hard_predictions(x: np.ndarray, name: str, n_classes: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 2:
        if x.shape[1] != n_classes:
            raise ValueError(
                f"{name} has {x.shape[1]} probability columns but n_classes={n_classes}; "
                "pass one column per class"
            )
        return x.argmax(axis=1)
    return _labels(x, name, n_classes)


def _labels(x: np.ndarray, name: str, n_classes: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"{name} has shape {x.shape}; pass a 1-D array of class ids")
    if x.size == 0:
        raise ValueError(f"{name} is empty; pass at least one prediction or label")
    if not np.issubdtype(x.dtype, np.integer):
        if not np.issubdtype(x.dtype, np.number) or np.any(x != np.round(x)):
            raise ValueError(f"{name} has dtype {x.dtype}; pass integer class ids")
        x = x.astype(np.int64)
    if x.min() < 0 or x.max() >= n_classes:
        raise ValueError(
            f"{name} holds class ids outside [0, {n_classes}); pass ids below n_classes"
        )
    return x.astype(np.int64)


def bbse_target_priors(
    val_probs_or_preds: np.ndarray,
    val_labels: np.ndarray,
    target_preds: np.ndarray,
    n_classes: int,
) -> np.ndarray:
    """Target class priors by Black Box Shift Estimation (Lipton et al., ICML 2018).

    Under label shift ``p_t(x | y) = p_s(x | y)``, so for any fixed classifier
    ``P_t(yhat = i) = sum_j P_s(yhat = i | y = j) q_j = sum_j C[i, j] w_j`` with the joint
    confusion ``C[i, j] = P_s(yhat = i, y = j)`` and weights ``w_j = q_j / p_j``. ``C`` is
    estimated on held-out labelled source data, ``mu = P_t(yhat)`` from the target predictions,
    and ``C w = mu`` is solved by least squares through the SVD (``lstsq``): the exact solution
    when ``C`` is invertible, the pseudo-inverse one when it is singular or ill-conditioned.
    Negative weights (estimation noise) are clipped to 0 and ``q = w * p`` is renormalised.

    Predictions may be (N, n_classes) probabilities (the argmax is used) or (N,) class ids.
    """
    _check_positive_int(n_classes, "n_classes", 2)
    val_pred = _hard_predictions(val_probs_or_preds, "val_probs_or_preds", n_classes)
    val_y = _labels(val_labels, "val_labels", n_classes)
    tgt_pred = _hard_predictions(target_preds, "target_preds", n_classes)
    if val_pred.shape[0] != val_y.shape[0]:
        raise ValueError(
            f"val_probs_or_preds has {val_pred.shape[0]} rows but val_labels has "
            f"{val_y.shape[0]}; pass predictions and labels of the same samples"
        )
    joint = np.zeros((n_classes, n_classes), dtype=np.float64)
    np.add.at(joint, (val_pred, val_y), 1.0)
    joint /= val_y.shape[0]
    p_source = joint.sum(axis=0)
    mu = np.bincount(tgt_pred, minlength=n_classes) / tgt_pred.shape[0]
    w, *_ = np.linalg.lstsq(joint, mu, rcond=None)
    q = np.clip(w, 0.0, None) * p_source
    total = q.sum()
    if total <= 0:
        warnings.warn(
            "BBSE weights are all non-positive; returning the source priors",
            RuntimeWarning,
            stacklevel=2,
        )
        return p_source
    return q / total


def prior_shift(p: np.ndarray, q: np.ndarray) -> dict[str, float]:
    """How far target priors ``q`` are from source priors ``p``.

    Returns ``total_variation`` = 1/2 sum |p - q|, ``max_abs_difference`` = max |p - q| and
    ``kl_q_p`` = KL(q || p) = sum q log(q / p) in nats, computed after adding 1e-6 to every class
    and renormalising so that a class absent from one side gives a large finite value. Both
    inputs are normalised to sum to 1 first, so counts are accepted.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.ndim != 1 or p.shape != q.shape:
        raise ValueError(
            f"p has shape {p.shape} and q has shape {q.shape}; pass two 1-D arrays with one "
            "entry per class"
        )
    for name, v in (("p", p), ("q", q)):
        if not np.all(np.isfinite(v)) or np.any(v < 0) or v.sum() <= 0:
            raise ValueError(
                f"{name} is not a distribution; pass non-negative finite priors with a positive sum"
            )
    p, q = p / p.sum(), q / q.sum()
    ps = (p + KL_EPS) / (1.0 + KL_EPS * p.size)
    qs = (q + KL_EPS) / (1.0 + KL_EPS * q.size)
    diff = np.abs(p - q)
    return {
        "total_variation": float(0.5 * diff.sum()),
        "max_abs_difference": float(diff.max()),
        "kl_q_p": float(np.sum(qs * np.log(qs / ps))),
    }
