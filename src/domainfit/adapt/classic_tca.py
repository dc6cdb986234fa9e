"""Transfer Component Analysis (Pan, Tsang, Kwok & Yang, IEEE TNN 2011) and the MMD
eigenproblem it shares with JDA.

Notation: X = [X_s; X_t] stacks the n = n_s + n_t samples as rows; H = I - (1/n) 1 1^T centres
them. An MMD matrix is a sum of rank-one terms M = sum_c e_c e_c^T, where e_c holds
+1/n_s^(c) on the source samples of group c, -1/n_t^(c) on its target samples and 0 elsewhere;
for the marginal term (TCA) the group is every sample. For a projection a, a^T X^T e_c is the
difference of the projected group means, so a^T X^T M X a is a sum of squared mean gaps (MMD).

A method then looks for directions A = [a_1..a_k] that keep the (centred) variance and shrink
the MMD:

    max_A  tr( (A^T (K^T M K + lam I) A)^{-1} A^T K^T H K A ),

with K = X (``primal``, A is d x k) or K the n x n kernel matrix (``linear``: X X^T, ``rbf``),
whose solution is the top-k generalised eigenvectors of K^T H K a = nu (K^T M K + lam I) a
(nu = 1/phi for the smallest phi of the papers' form, where K^T H K may be singular but
K^T M K + lam I is positive definite). The embedding is Z = K A.

Cost: the direct problem is p x p (4,096 x 4,096 for DeCAF6 ``primal``). When K has fewer
samples than columns (``primal``, d > n) or the ``linear`` kernel has d < n, the same directions
come from an r x r problem, r = rank(K) <= min(n, p) (``classic_lowrank``; chosen automatically
by ``classic_lowrank.choose_form``, identical up to rounding).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from domainfit.adapt.classic_align import check_dim, check_pair
from domainfit.adapt.classic_lowrank import LowRank, low_rank_basis

KERNELS = ("primal", "linear", "rbf")


def default_gamma(x: np.ndarray) -> float:
    """1 / (mean squared distance between rows): mean_ij ||x_i - x_j||^2 = 2 tr(cov_pop(x))."""
    mean_sq = 2.0 * float(x.var(axis=0).sum())
    return 1.0 / mean_sq if mean_sq > 0 else 1.0


def kernel_matrix(x: np.ndarray, kernel: str, gamma: float | None = None) -> np.ndarray:
    """``linear``: K = X X^T; ``rbf``: K_ij = exp(-gamma ||x_i - x_j||^2), with
    ``default_gamma`` when gamma is None."""
    if kernel == "linear":
        return x @ x.T
    if kernel == "rbf":
        g = default_gamma(x) if gamma is None else float(gamma)
        if not g > 0:
            raise ValueError(f"gamma must be > 0, got {gamma}")
        sq = (x * x).sum(axis=1)
        d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)
        return np.exp(-g * d2)
    raise ValueError(f"unknown kernel '{kernel}'; known: {', '.join(KERNELS)}")


def mmd_vectors(
    ns: int, nt: int, ys: np.ndarray | None = None, yt: np.ndarray | None = None
) -> np.ndarray:
    """Rows e_c of M = sum_c e_c e_c^T: the marginal row, then (when labels for both domains are
    given) one row per class present in both domains' labels."""
    n = ns + nt
    rows = [np.concatenate([np.full(ns, 1.0 / ns), np.full(nt, -1.0 / nt)])]
    if ys is not None and yt is not None:
        for c in np.unique(ys):
            in_s, in_t = ys == c, yt == c
            if not in_t.any():
                continue  # no target sample carries this pseudo-label: no conditional term
            e = np.zeros(n)
            e[:ns][in_s] = 1.0 / in_s.sum()
            e[ns:][in_t] = -1.0 / in_t.sum()
            rows.append(e)
    return np.vstack(rows)


def mmd_directions(
    k: np.ndarray, e: np.ndarray, dim: int, lam: float, basis: LowRank | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``dim`` solutions a of K^T H K a = nu (K^T M K / ||M||_F + lam I) a.

    ``k`` is the (n, p) data (p = d, primal) or kernel matrix (p = n), ``e`` the rows of M.
    M is divided by its Frobenius norm ||M||_F^2 = sum_{c,c'} (e_c . e_c')^2, so lam weighs the
    same whatever n and the number of classes. With ``basis`` (K = Y Q^T, ``classic_lowrank``)
    the r x r problem on Y is solved and A = Q C: the same directions (module docstring of
    ``classic_lowrank``) at O(r^3) instead of O(p^3); used when dim <= r. Returns (A, nu):
    A (p, dim) with unit-norm columns, signs fixed so each column's largest entry is positive,
    nu descending.
    """
    if not lam > 0:
        raise ValueError(f"lam must be > 0, got {lam}")
    if basis is not None and dim <= basis.y.shape[1]:
        c, nu = solve_directions(basis.y, e, dim, lam)
        a = basis.q @ c
    else:
        a, nu = solve_directions(k, e, dim, lam)
    a /= np.linalg.norm(a, axis=0)
    sign = np.sign(a[np.abs(a).argmax(axis=0), np.arange(dim)])
    return a * np.where(sign == 0, 1.0, sign), nu


def solve_directions(
    k: np.ndarray, e: np.ndarray, dim: int, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """The generalised eigenproblem of ``mmd_directions`` on the columns of ``k`` as given."""
    p = k.shape[1]
    ek = e @ k  # (C+1, p): rows e_c^T K
    gram = e @ e.T
    m_norm = float(np.sqrt((gram * gram).sum()))
    den = ek.T @ ek / m_norm + lam * np.eye(p)
    kc = k - k.mean(axis=0)  # H K; K^T H K = (H K)^T (H K)
    num = kc.T @ kc
    nu, a = scipy.linalg.eigh(num, den, subset_by_index=[p - dim, p - 1])
    order = np.argsort(nu)[::-1]
    return a[:, order], nu[order]


def row_normalize(x: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def embedding_basis(
    xs: np.ndarray, xt: np.ndarray, kernel: str, gamma: float | None, normalize: bool
) -> np.ndarray:
    """The stacked (n, p) matrix K the directions act on (X itself for ``primal``)."""
    x = np.vstack([xs, xt])
    if normalize:
        x = row_normalize(x)
    return x if kernel == "primal" else kernel_matrix(x, kernel, gamma)


def factored_basis(
    xs: np.ndarray, xt: np.ndarray, kernel: str, gamma: float | None, normalize: bool
) -> tuple[np.ndarray, LowRank | None]:
    """``embedding_basis`` and, when ``classic_lowrank.choose_form`` finds a cheaper form
    (d > n primal, d < n linear), its low-rank factor for ``mmd_directions``."""
    k = embedding_basis(xs, xt, kernel, gamma, normalize)
    if kernel == "primal":
        return k, low_rank_basis(k, kernel)
    if kernel == "linear":
        x = np.vstack([xs, xt])
        return k, low_rank_basis(row_normalize(x) if normalize else x, kernel)
    return k, None


def dim_limit(kernel: str, d: int, n: int) -> int:
    return d if kernel == "primal" else n


def tca(
    xs: np.ndarray,
    xt: np.ndarray,
    dim: int,
    mu: float = 1.0,
    kernel: str = "linear",
    gamma: float | None = None,
    normalize: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Transfer Component Analysis: the transfer components W maximise the embedded variance
    while shrinking the marginal MMD between the domains,

        min_W tr(W^T K L K W) + mu tr(W^T W)   s.t.  W^T K H K W = I,

    with L = e e^T (e = [1/n_s ... ; -1/n_t ...]) and the kernel matrix K of the stacked data
    (``linear``, ``rbf`` with ``gamma``; ``primal`` uses X itself, giving a linear map of the
    features). W are the top-``dim`` eigenvectors of (K L K + mu I)^{-1} K H K (see
    ``mmd_directions``, L scaled to unit Frobenius norm). ``normalize`` first scales each
    sample to unit L2 norm. Returns (Z_s, Z_t) = rows of K W.
    """
    s, t = check_pair(xs, xt)
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel '{kernel}'; known: {', '.join(KERNELS)}")
    n = len(s) + len(t)
    dim = check_dim(dim, dim_limit(kernel, s.shape[1], n), f"{kernel} kernel")
    k, basis = factored_basis(s, t, kernel, gamma, normalize)
    w, _ = mmd_directions(k, mmd_vectors(len(s), len(t)), dim, mu, basis)
    z = k @ w
    return z[: len(s)], z[len(s) :]
