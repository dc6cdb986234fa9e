"""Low-rank (dual) forms of the classic methods: the same answers at O(n^2 d) instead of O(d^3).

With n samples in d > n dimensions (e.g. 452 DeCAF6 vectors of 4,096 numbers) every matrix built
from the data has rank r <= n. Two exact reductions follow from one thin SVD.

MMD eigenproblems (TCA/JDA, ``classic_tca.mmd_directions``). For the (n, p) basis K (the data
X for ``primal``, p = d) write the thin SVD K = U S Q^T, Q (p, r) orthonormal. The problem

    K^T H K a = nu (K^T M K + lam I) a

forces a into range(Q) for every nu != 0: split a = Q c + a_perp, then the equation reads
Q [Y^T H Y c - nu (Y^T M Y + lam I) c] - nu lam a_perp = 0 with Y = K Q = U S (n, r), so
a_perp = 0 and c solves the *same* problem on the r features of Y (an r x r eigenproblem). The
directions A = Q C have the same nu, norms ||a|| = ||c||, and embedding K A = Y C. The discarded
eigenvectors all have nu = 0 (they lie in null(K)), so this holds for dim <= r.

The ``linear`` kernel K = X X^T (n, n) has rank r <= d: from X = U S V^T, K = U S^2 U^T, so the
same argument with Q = U and Y = U S^2 gives an r x r problem when d < n (feature space).

CORAL (``classic_align.coral_recolor``). With D the centred data / sqrt(n - 1) = U S V^T
(r <= n - 1), cov = V S^2 V^T and, for C = cov + eps I and any power p,

    C^p = eps^p I + V diag((s^2 + eps)^p - eps^p) V^T,

so x C^p = eps^p x + (x V) diag(.) V^T costs O(n r d) and never forms a d x d matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FORMS = ("direct", "dual", "feature")


@dataclass(frozen=True)
class LowRank:
    """K = Y Q^T: ``y`` (n, r) coordinates, ``q`` (p, r) orthonormal columns."""

    y: np.ndarray
    q: np.ndarray


def choose_form(kernel: str, n: int, d: int) -> str:
    """Which eigenproblem is cheaper for n samples of d features (the result is the same):

    - ``dual``: ``primal`` kernel with d > n, solved in the n-dim span of the samples;
    - ``feature``: ``linear`` kernel with d < n, solved in the d-dim span of the features;
    - ``direct``: otherwise (``rbf`` kernels are full rank, nothing to reduce).
    """
    if kernel == "primal" and d > n:
        return "dual"
    if kernel == "linear" and d < n:
        return "feature"
    return "direct"


# Gram eigenvalues below this fraction of the largest are dropped: their singular vectors are
# inaccurate (Gram squares the condition number) and they carry < 1e-12 of the energy, far below
# the lam I / eps I regularisers of the methods.
GRAM_RTOL = 1e-12


def thin_svd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X = U diag(s) V^T over the numerical rank, from the eigendecomposition of the smaller
    Gram matrix (X X^T when n <= d, else X^T X): O(n d min(n, d)) with one min(n, d)^3 ``eigh``,
    several times faster than LAPACK's SVD of a wide matrix."""
    wide = x.shape[0] <= x.shape[1]
    g = x @ x.T if wide else x.T @ x
    w, vec = np.linalg.eigh(g)
    w, vec = w[::-1], vec[:, ::-1]
    keep = w > (w[0] if len(w) and w[0] > 0 else np.inf) * GRAM_RTOL
    s, vec = np.sqrt(w[keep]), vec[:, keep]
    if wide:
        return vec, s, (x.T @ vec / s).T
    return x @ vec / s, s, vec.T


def low_rank_basis(x: np.ndarray, kernel: str) -> LowRank | None:
    """The factor K = Y Q^T of the basis ``classic_tca.embedding_basis`` would build from the
    (already normalised) stacked data ``x``, when ``choose_form`` says it pays; else None."""
    form = choose_form(kernel, x.shape[0], x.shape[1])
    if form == "direct":
        return None
    u, s, vt = thin_svd(x)
    if form == "dual":
        return LowRank(u * s, vt.T)
    return LowRank(u * s**2, u)  # K = X X^T = U S^2 U^T


def cov_factor(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(w, V): the non-zero eigenvalues w (descending) and (d, r) eigenvectors of cov(x) (ddof
    1, as ``np.cov``), from the thin SVD of the centred data, O(n^2 d)."""
    centred = (x - x.mean(axis=0)) / np.sqrt(len(x) - 1)
    _, s, vt = thin_svd(centred)
    return s**2, vt.T


def apply_power(
    x: np.ndarray, w: np.ndarray, v: np.ndarray, eps: float, power: float
) -> np.ndarray:
    """x (V diag(w) V^T + eps I)^power without forming the d x d matrix (module docstring)."""
    base = eps**power
    return base * x + ((x @ v) * ((w + eps) ** power - base)) @ v.T
