"""Transferability scores: how well a frozen pretrained model suits a target task, estimated
from its features (or its source-class probabilities) on the target data, without fine-tuning.

Feature scores take ``features`` (N, D) and ``labels`` (N,):

- :func:`logme` -- maximum Bayesian linear-regression evidence (You et al., ICML 2021).
- :func:`h_score` -- tr(cov(f)^-1 cov(E[f|y])) (Bao et al., ICIP 2019), shrunk by default
  (Ibrahim et al., ICLR 2023).
- :func:`knn_cv_accuracy`, :func:`linear_probe_cv_accuracy` -- cross-validated probes.

Source scores take the source model's outputs on the target data:

- :func:`leep` -- log expected empirical prediction (Nguyen et al., ICML 2020).
- :func:`nce` -- negative conditional entropy -H(Y|Z) (Tran et al., ICCV 2019).

:func:`kendall_tau` measures how well a score ranks models by their fine-tuned accuracy.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import linalg, stats
from sklearn.covariance import LedoitWolf
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ScoreFn = Callable[[np.ndarray, np.ndarray], float]

# Eigenvalues of the Gram matrix below this fraction of the largest are treated as zero: the
# Gram matrix squares the condition number, so smaller ones carry no reliable direction.
_RANK_RTOL = 1e-10


# ---------------------------------------------------------------------------------------------
# input checks


def _features(features: np.ndarray, name: str = "features") -> np.ndarray:
    f = np.asarray(features)
    if f.ndim != 2:
        raise ValueError(
            f"{name} must be 2-d (samples, dims), got shape {f.shape}; "
            "reshape a single feature column with x[:, None]"
        )
    if f.shape[0] < 2:
        raise ValueError(f"{name} has {f.shape[0]} rows; pass at least 2 samples")
    if not np.issubdtype(f.dtype, np.number) or np.issubdtype(f.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real numbers, got dtype {f.dtype}; cast to float first")
    f = f.astype(np.float64, copy=False)
    if not np.isfinite(f).all():
        raise ValueError(f"{name} contain NaN or inf; drop or impute those rows first")
    return f


def _same_length(n: int, labels: np.ndarray, what: str) -> None:
    if labels.shape[0] != n:
        raise ValueError(
            f"{what} has {n} rows but labels has {labels.shape[0]}; pass one label per row"
        )


def _class_codes(labels: np.ndarray, n: int, what: str) -> tuple[np.ndarray, int]:
    """Labels as codes 0..C-1 (in sorted order of the distinct values), and C."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(
            f"labels must be 1-d class labels for this score, got shape {y.shape}; "
            "pass one class per sample (e.g. argmax of a one-hot matrix)"
        )
    _same_length(n, y, what)
    continuous = np.issubdtype(y.dtype, np.floating) and not (
        np.isfinite(y).all() and np.array_equal(y, np.round(y))
    )
    if continuous:
        raise ValueError(
            "labels look continuous (non-integer floats or NaN); this score needs class labels"
        )
    classes, codes = np.unique(y, return_inverse=True)
    return codes.reshape(-1), len(classes)


# ---------------------------------------------------------------------------------------------
# LogME


def _spectrum_and_projections(f: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nonzero squared singular values sigma (k,) of F and Z = U^T Y (k, T), U the matching
    left singular vectors. Uses the eigen-decomposition of the smaller Gram matrix, which costs
    O(N D min(N, D)) -- much cheaper than an SVD of F when N ~ 10k and D ~ 2k."""
    n, d = f.shape
    if n <= d:
        sigma, u = np.linalg.eigh(f @ f.T)
        keep = sigma > _RANK_RTOL * max(sigma.max(), 0.0)
        return sigma[keep], u[:, keep].T @ targets
    sigma, v = np.linalg.eigh(f.T @ f)
    keep = sigma > _RANK_RTOL * max(sigma.max(), 0.0)
    sigma, v = sigma[keep], v[:, keep]
    # u_i = F v_i / s_i, so u_i^T y = v_i^T (F^T y) / s_i, without forming the N x k matrix U.
    z = (v.T @ (f.T @ targets)) / np.sqrt(sigma)[:, None]
    return sigma, z


def _max_log_evidence(
    sigma: np.ndarray, z: np.ndarray, yy: float, n: int, tol: float = 1e-3, max_iter: int = 100
) -> float:
    """Maximum over (alpha, beta) of the log evidence of y under Bayesian linear regression,
    divided by n, given the spectrum sigma of F^T F and z = U^T y."""
    z2 = z**2
    # The part of y outside the column space of F: no weight vector can explain it.
    outside = max(yy - float(z2.sum()), 0.0)
    # Floors keep the updates finite when y is (numerically) perfectly fitted or orthogonal.
    res_floor = 1e-12 * yy
    mm_floor = 1e-12 * yy / float(sigma.max())
    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        denom = alpha + beta * sigma
        gamma = float((beta * sigma / denom).sum())  # effective number of fitted parameters
        mm = float((beta**2 * sigma * z2 / denom**2).sum())  # |m|^2, m the posterior mean
        res = outside + float((alpha**2 * z2 / denom**2).sum())  # |F m - y|^2
        new_alpha = gamma / max(mm, mm_floor)
        new_beta = (n - gamma) / max(res, res_floor)
        done = abs(new_alpha - alpha) <= tol * alpha and abs(new_beta - beta) <= tol * beta
        alpha, beta = new_alpha, new_beta
        if done:
            break
    denom = alpha + beta * sigma
    mm = float((beta**2 * sigma * z2 / denom**2).sum())
    res = outside + float((alpha**2 * z2 / denom**2).sum())
    k = sigma.size
    # log|A| = sum log(alpha + beta sigma_i) + (D - k) log alpha; the (D - k) null-space terms
    # cancel against D/2 log alpha of the prior, so only the rank k enters.
    evidence = (
        0.5 * n * math.log(beta)
        + 0.5 * k * math.log(alpha)
        - 0.5 * n * math.log(2 * math.pi)
        - 0.5 * beta * res
        - 0.5 * alpha * mm
        - 0.5 * float(np.log(denom).sum())
    )
    return evidence / n


def logme(features: np.ndarray, labels: np.ndarray) -> float:
    """LogME (You et al., "LogME: Practical Assessment of Pre-trained Models for Transfer
    Learning", ICML 2021): mean over targets y of max_{alpha,beta} log p(y | F, alpha, beta) / N.

    Model: y = F w + e, w ~ N(0, I/alpha), e ~ N(0, I/beta). With A = alpha I + beta F^T F and
    m = beta A^-1 F^T y, the log evidence is
    N/2 log beta + D/2 log alpha - N/2 log 2pi - beta/2 |F m - y|^2 - alpha/2 |m|^2 - 1/2 log|A|,
    maximised by MacKay's fixed point gamma = sum beta s_i / (alpha + beta s_i),
    alpha = gamma / |m|^2, beta = (N - gamma) / |F m - y|^2 (s_i the eigenvalues of F^T F),
    iterated until both change by < 0.1% (at most 100 times).

    Integer, boolean or string labels are classes: each one-hot column is a target. Float labels
    are regression targets (a 2-d float array holds several). Higher is better.
    """
    f = _features(features)
    n = f.shape[0]
    y = np.asarray(labels)
    if np.issubdtype(y.dtype, np.floating):
        if y.ndim not in (1, 2):
            raise ValueError(f"labels must be 1-d or 2-d (samples, targets), got shape {y.shape}")
        _same_length(n, y, "features")
        targets = y.reshape(n, -1).astype(np.float64)
        if not np.isfinite(targets).all():
            raise ValueError("labels contain NaN or inf; drop those rows first")
    else:
        codes, n_classes = _class_codes(y, n, "features")
        targets = np.zeros((n, n_classes))
        targets[np.arange(n), codes] = 1.0
    yy = (targets**2).sum(axis=0)
    if (yy == 0).any():
        raise ValueError("a regression target is all zeros; its evidence is unbounded, drop it")
    sigma, z = _spectrum_and_projections(f, targets)
    if sigma.size == 0:
        raise ValueError("features are all zero; nothing to score")
    per_target = [_max_log_evidence(sigma, z[:, t], float(yy[t]), n) for t in range(z.shape[1])]
    return float(np.mean(per_target))


# ---------------------------------------------------------------------------------------------
# scores from the source model's outputs


def leep(source_probs: np.ndarray, labels: np.ndarray) -> float:
    """LEEP (Nguyen et al., "LEEP: A New Measure to Evaluate Transferability of Learned
    Representations", ICML 2020).

    With theta(x) the source model's softmax over source classes z, the empirical joint is
    P(y, z) = 1/N sum_{i: y_i = y} theta(x_i)_z, P(y | z) = P(y, z) / P(z), and
    LEEP = 1/N sum_i log sum_z P(y_i | z) theta(x_i)_z -- the mean log-likelihood of the
    "expected empirical predictor". It is <= 0; higher is better.
    """
    p = _features(source_probs, "source_probs")
    n = p.shape[0]
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "source_probs rows must be probabilities summing to 1; apply softmax to logits first"
        )
    codes, n_classes = _class_codes(labels, n, "source_probs")
    joint = np.zeros((n_classes, p.shape[1]))
    np.add.at(joint, codes, p)
    joint /= n
    p_z = joint.sum(axis=0)
    # A source class that no sample gives any mass contributes nothing; avoid 0/0 there.
    cond = np.divide(joint, p_z, out=np.zeros_like(joint), where=p_z > 0)
    # Each sample puts mass theta_z on (y_i, z) itself, so this sum is > 0 for every sample.
    eep = (p * cond[codes]).sum(axis=1)
    return float(np.log(eep).mean())


def nce(source_predictions: np.ndarray, labels: np.ndarray) -> float:
    """NCE (Tran et al., "Transferability and Hardness of Supervised Classification Tasks",
    ICCV 2019): -H(Y | Z) = sum_{y,z} P(y, z) log P(y | z), with Z the source model's hard
    predictions and P the empirical joint distribution of (Y, Z). It is <= 0 and 0 exactly
    when Z determines Y; higher is better.
    """
    z = np.asarray(source_predictions)
    if z.ndim != 1:
        raise ValueError(
            f"source_predictions must be 1-d hard predictions, got shape {z.shape}; "
            "pass source_probs.argmax(axis=1)"
        )
    if np.issubdtype(z.dtype, np.floating):
        raise ValueError(
            "source_predictions must be integer class ids, got floats; "
            "pass source_probs.argmax(axis=1)"
        )
    n = z.shape[0]
    codes_y, n_y = _class_codes(labels, n, "source_predictions")
    _, codes_z = np.unique(z, return_inverse=True)
    codes_z = codes_z.reshape(-1)
    joint = np.zeros((n_y, int(codes_z.max()) + 1))
    np.add.at(joint, (codes_y, codes_z), 1.0)
    joint /= n
    p_z = joint.sum(axis=0)
    nz = joint > 0
    cond = joint[nz] / np.broadcast_to(p_z, joint.shape)[nz]
    return float((joint[nz] * np.log(cond)).sum())


# ---------------------------------------------------------------------------------------------
# H-score


def h_score(features: np.ndarray, labels: np.ndarray, shrinkage: bool = True) -> float:
    """H-score (Bao et al., "An Information-Theoretic Approach to Transferability in Task
    Transfer Learning", ICIP 2019): tr(cov(f)^-1 cov(E[f | y])), the between-class share of the
    feature covariance. Higher is better; it lies in [0, C - 1].

    With ``shrinkage`` (default), cov(f) is the Ledoit-Wolf estimate
    (1 - a) S + a (tr S / D) I and, as in the regularised H-score of Ibrahim et al. ("Newer is
    not always better: Rethinking transferability metrics, their peculiarities, stability and
    performance", ICLR 2023), the between-class covariance is scaled by the same (1 - a). The
    plain sample covariance is near-singular when D is comparable to N, and its inverse then
    rewards any labelling -- even noise -- with a score near C - 1. Without shrinkage a
    pseudo-inverse is used.
    """
    f = _features(features)
    n = f.shape[0]
    codes, n_classes = _class_codes(labels, n, "features")
    centred = f - f.mean(axis=0)
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    means = np.zeros((n_classes, f.shape[1]))
    np.add.at(means, codes, centred)
    means /= counts[:, None]
    weights = counts / n
    # tr(S^-1 sum_c w_c m_c m_c^T) = sum_c w_c m_c^T S^-1 m_c: no D x D between-class matrix.
    if shrinkage:
        lw = LedoitWolf(assume_centered=True).fit(centred)
        cov, scale = lw.covariance_, 1.0 - float(lw.shrinkage_)
        try:
            solved = linalg.cho_solve(linalg.cho_factor(cov), means.T)
        except linalg.LinAlgError:  # zero shrinkage on a singular covariance
            solved = np.linalg.pinv(cov, hermitian=True) @ means.T
    else:
        cov, scale = centred.T @ centred / n, 1.0
        solved = np.linalg.pinv(cov, hermitian=True) @ means.T
    return float(scale * (weights * np.einsum("cd,dc->c", means, solved)).sum())


# ---------------------------------------------------------------------------------------------
# cross-validated probes


def _stratified_splits(
    codes: np.ndarray, n_classes: int, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    if n_classes < 2:
        raise ValueError("labels hold a single class; a classifier probe needs at least 2")
    counts = np.bincount(codes, minlength=n_classes)
    smallest = int(counts.min())
    if smallest < 2:
        raise ValueError(
            f"class #{int(counts.argmin())} (in sorted label order) has only {smallest} "
            "sample; cross-validation needs at least 2 per class -- drop or merge it"
        )
    if smallest < folds:
        # Stratification needs every class in every test fold.
        warnings.warn(
            f"smallest class has {smallest} samples; using {smallest} folds instead of {folds}",
            UserWarning,
            stacklevel=3,
        )
        folds = smallest
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros((codes.size, 1)), codes))


def knn_cv_accuracy(
    features: np.ndarray, labels: np.ndarray, k: int = 5, folds: int = 5, seed: int = 0
) -> float:
    """Out-of-fold accuracy of a k-nearest-neighbour classifier (Euclidean distance on the raw
    features) under stratified k-fold cross-validation: the fraction of samples whose label
    the majority of their k nearest training neighbours predicts."""
    f = _features(features)
    codes, n_classes = _class_codes(labels, f.shape[0], "features")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    correct = 0
    for train, test in _stratified_splits(codes, n_classes, folds, seed):
        model = KNeighborsClassifier(n_neighbors=min(k, train.size))
        model.fit(f[train], codes[train])
        correct += int((model.predict(f[test]) == codes[test]).sum())
    return correct / int(f.shape[0])


def linear_probe_cv_accuracy(
    features: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0, c: float = 1.0
) -> float:
    """Out-of-fold accuracy of an L2-regularised (inverse strength ``c``) multinomial logistic
    regression on standardised features under stratified k-fold cross-validation. The scaler
    is fitted on each training fold only, so no test statistics leak in."""
    f = _features(features)
    codes, n_classes = _class_codes(labels, f.shape[0], "features")
    if c <= 0:
        raise ValueError(f"c must be positive, got {c}")
    correct = 0
    for train, test in _stratified_splits(codes, n_classes, folds, seed):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
        model.fit(f[train], codes[train])
        correct += int((model.predict(f[test]) == codes[test]).sum())
    return correct / int(f.shape[0])


# ---------------------------------------------------------------------------------------------
# agreement with fine-tuned accuracy


def kendall_tau(scores: Sequence[float], accuracies: Sequence[float]) -> float:
    """Kendall's tau-b between a score and the accuracy reached by fine-tuning, over models:
    (concordant - discordant pairs), normalised for ties; 1 when the score orders the models
    exactly as their accuracies. NaN when either side has fewer than 2 distinct values."""
    s = np.asarray(scores, dtype=np.float64)
    a = np.asarray(accuracies, dtype=np.float64)
    if s.ndim != 1 or s.shape != a.shape:
        raise ValueError(
            f"scores and accuracies must be 1-d and equally long, got {s.shape} and {a.shape}"
        )
    if np.unique(s).size < 2 or np.unique(a).size < 2:
        return float("nan")
    return float(stats.kendalltau(s, a, variant="b").statistic)


# ---------------------------------------------------------------------------------------------
# registries


def _nce_from_probs(source_probs: np.ndarray, labels: np.ndarray) -> float:
    p = _features(source_probs, "source_probs")
    return nce(p.argmax(axis=1), labels)


SCORES: dict[str, ScoreFn] = {
    "logme": logme,
    "hscore": h_score,
    "knn": knn_cv_accuracy,
    "linear_probe": linear_probe_cv_accuracy,
}
"""Scores of target features: (features (N, D), labels (N,)) -> float, higher is better."""

SOURCE_SCORES: dict[str, ScoreFn] = {
    "leep": leep,
    "nce": _nce_from_probs,
}
"""Scores of source-model softmax outputs: (source_probs (N, Cs), labels (N,)) -> float."""
