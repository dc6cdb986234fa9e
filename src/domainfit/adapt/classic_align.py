"""Second-order alignment of feature data: CORAL and subspace alignment, plus the preprocessing
of the JDA/MEDA Office-Caltech protocol.

Samples are rows: ``xs`` is (n_s, d) source data, ``xt`` (n_t, d) target data.
"""

from __future__ import annotations

import warnings

import numpy as np

from domainfit.adapt.classic_lowrank import apply_power, cov_factor


def as_matrix(x: np.ndarray, name: str) -> np.ndarray:
    """A finite (n, d) float64 array with n >= 2, or a clear ValueError."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-d (samples, features) array, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return a


def check_pair(xs: np.ndarray, xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source and target as matrices with the same number of features."""
    s, t = as_matrix(xs, "xs"), as_matrix(xt, "xt")
    if s.shape[1] != t.shape[1]:
        raise ValueError(f"xs has {s.shape[1]} features but xt has {t.shape[1]}")
    return s, t


def check_dim(dim: int, limit: int, what: str) -> int:
    """``dim`` as an int in [1, limit], else a ValueError that says the allowed range."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise ValueError(f"dim must be an integer, got {dim!r}")
    if not 1 <= dim <= limit:
        raise ValueError(f"dim must be between 1 and {limit} ({what}), got {dim}")
    return int(dim)


def office_caltech_preprocess(x: np.ndarray) -> np.ndarray:
    """The JDA/MEDA preprocessing of the Office-Caltech SURF histograms, one domain at a time.

    Each row is divided by its sum (a histogram becomes a distribution), then each column is
    z-scored with the *population* standard deviation, as MATLAB's ``zscore(X, 1)`` does
    (flag 1 divides by N):

        x_ij <- x_ij / sum_j x_ij,      x_ij <- (x_ij - mean_i x_ij) / std_i(x_ij; ddof=0).

    With this the source-only 1-NN accuracies match the published NN column of the JDA paper on
    all 12 tasks (the sample standard deviation, N-1, gives the same column: within one domain
    it only rescales every feature by the same factor). A constant column becomes zero.
    """
    a = as_matrix(x, "x")
    sums = a.sum(axis=1, keepdims=True)
    if (sums == 0).any():
        raise ValueError("a row sums to zero: cannot normalise it into a histogram")
    a = a / sums
    std = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)


def sym_power(c: np.ndarray, power: float) -> np.ndarray:
    """C^p of a symmetric positive definite matrix via its eigendecomposition C = V diag(w) V^T:
    C^p = V diag(w^p) V^T (eigenvalues clipped at a tiny positive floor)."""
    w, v = np.linalg.eigh(c)
    w = np.clip(w, np.finfo(np.float64).tiny, None)
    return (v * w**power) @ v.T


def coral_recolor(
    xs: np.ndarray, xt: np.ndarray, eps: float = 1.0, relative: bool = False
) -> np.ndarray:
    """CORAL (Sun, Feng & Saenko, AAAI 2016): whiten the source, re-colour it with the target.

    With C_s = cov(X_s) + eps I and C_t = cov(X_t) + eps I (eps = 1 in the paper),

        X_s' = X_s C_s^{-1/2} C_t^{1/2}.

    The rows are not re-centred (the paper's transform is linear). Since
    C_s^{-1/2} (cov(X_s) + eps I) C_s^{-1/2} = I, the new source covariance satisfies
    cov(X_s') + eps C_t^{1/2} C_s^{-1} C_t^{1/2} = C_t: it equals the target covariance up to
    the regularisation, exactly so as eps -> 0. Returns X_s'; the target stays as it is.

    Cost: the powers come from the thin SVD of each centred domain (``classic_lowrank``):
    C^p = eps^p I + V diag((w + eps)^p - eps^p) V^T with the r <= n - 1 non-zero eigenvalues
    w of cov, so O(n^2 d) time and no d x d matrix (4,096-d features in well under a second).

    The regulariser. eps is absolute, as in the paper, so results on the published protocols
    stay reproducible; but it must be compared with the covariance's scale: for rows of unit
    L2 norm tr(cov) <= 1, so eps = 1 swamps every eigenvalue, C_s ~ C_t ~ eps I and X_s' ~ X_s
    (CORAL silently does nothing). Hence a ``UserWarning`` when eps >= 10 x the largest
    eigenvalue of both covariances (no direction's variance then moves by more than ~10 %).
    ``relative=True`` instead uses eps x (tr(cov_s) + tr(cov_t)) / (2 d), eps times the mean
    eigenvalue, which adapts the same whatever the data's scale.
    """
    s, t = check_pair(xs, xt)
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    ws, vs = cov_factor(s)
    wt, vt = cov_factor(t)
    if relative:
        mean_eig = (ws.sum() + wt.sum()) / (2 * s.shape[1])
        # Constant features: no scale to be relative to; any eps then gives the same answer.
        eps = eps * mean_eig if mean_eig > 0 else eps
    top = max(ws[0] if len(ws) else 0.0, wt[0] if len(wt) else 0.0)
    if eps >= 10.0 * top:
        warnings.warn(
            f"CORAL's eps={eps:.3g} is >= 10x the largest covariance eigenvalue ({top:.3g}): "
            "the transform is close to the identity (no adaptation); lower eps or pass "
            "relative=True",
            UserWarning,
            stacklevel=2,
        )
    return apply_power(apply_power(s, ws, vs, eps, -0.5), wt, vt, eps, 0.5)


def pca_basis(x: np.ndarray, dim: int) -> np.ndarray:
    """(d, dim) orthonormal basis of the top-``dim`` principal directions of the centred x."""
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    basis = vt[:dim].T
    # Fix each direction's sign (largest |entry| positive) so the result is deterministic.
    flip = np.sign(basis[np.abs(basis).argmax(axis=0), np.arange(dim)])
    return basis * np.where(flip == 0, 1.0, flip)


def subspace_alignment(xs: np.ndarray, xt: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Subspace alignment (Fernando, Habrard, Sebban & Tuytelaars, ICCV 2013).

    P_s, P_t are the (d, dim) PCA bases of source and target. The alignment M = P_s^T P_t
    minimises ||P_s M - P_t||_F, so the source goes to the aligned basis and the target to its
    own:

        Z_s = (X_s - mean_s) P_s P_s^T P_t,      Z_t = (X_t - mean_t) P_t.

    Each domain is centred on its own mean (PCA's convention). ``dim`` is at most
    min(d, n_s, n_t). Returns (Z_s, Z_t), both with ``dim`` columns.
    """
    s, t = check_pair(xs, xt)
    dim = check_dim(dim, min(s.shape[1], s.shape[0], t.shape[0]), "at most min(d, n_s, n_t)")
    ps, pt = pca_basis(s, dim), pca_basis(t, dim)
    zs = (s - s.mean(axis=0)) @ ps @ (ps.T @ pt)
    zt = (t - t.mean(axis=0)) @ pt
    return zs, zt
