"""Geodesic Flow Kernel (Gong, Shi, Sha & Grauman, CVPR 2012): the manifold feature learning
step of MEDA.

P_s, P_t are the (d, k) PCA bases of the two domains: points on the Grassmannian G(k, d). The
geodesic Phi(t), t in [0, 1], from P_s to P_t passes through every intermediate subspace, and
GFK integrates the inner products of all the projections along it:

    <x, y>_G = int_0^1 (Phi(t)^T x)^T (Phi(t)^T y) dt = x^T G y.

With the SVD P_s^T P_t = U_1 diag(cos theta) V^T (theta the principal angles) and the
component of P_t outside P_s, (I - P_s P_s^T) P_t V = -R_s U_2 diag(sin theta), where R_s is
the orthogonal complement of P_s, the integral has the closed form

    G = [P_s U_1, R_s U_2] [[L1, L2], [L2, L3]] [P_s U_1, R_s U_2]^T,
    L1 = diag(1 + sin(2 theta) / (2 theta)),  L2 = diag((cos(2 theta) - 1) / (2 theta)),
    L3 = diag(1 - sin(2 theta) / (2 theta)).

R_s U_2 comes from the second identity without forming R_s (a d x (d - k) matrix): its
column i is -(I - P_s P_s^T) P_t v_i / sin(theta_i); where theta_i = 0 the subspaces share
that direction, L2 = L3 = 0 and the column does not matter. ``gfk_map`` maps the rows with
G^{1/2}, so Euclidean geometry in the new features is the GFK geometry: x G^{1/2} (y G^{1/2})^T
= x^T G y.
"""

from __future__ import annotations

import numpy as np

from domainfit.adapt.classic_align import check_dim, check_pair, pca_basis

_SMALL = 1e-10


def gfk_matrix(xs: np.ndarray, xt: np.ndarray, dim: int) -> np.ndarray:
    """The (d, d) symmetric positive semi-definite GFK matrix G of the module docstring, from
    ``dim``-dimensional PCA subspaces of each domain (dim < d, at most min(n_s, n_t))."""
    s, t = check_pair(xs, xt)
    d = s.shape[1]
    dim = check_dim(dim, min(d - 1, len(s), len(t)), "below d and at most min(n_s, n_t)")
    ps, pt = pca_basis(s, dim), pca_basis(t, dim)
    u1, cos, vt = np.linalg.svd(ps.T @ pt)
    theta = np.arccos(np.clip(cos, -1.0, 1.0))
    q = ps @ u1  # P_s U_1
    ptv = pt @ vt.T
    outside = ptv - ps @ (ps.T @ ptv)  # (I - P_s P_s^T) P_t V = -R_s U_2 diag(sin theta)
    sin = np.sin(theta)
    r = np.zeros_like(q)
    moved = sin > _SMALL
    r[:, moved] = -outside[:, moved] / sin[moved]  # R_s U_2
    th = np.maximum(theta, _SMALL)
    l1 = 1.0 + np.sin(2 * th) / (2 * th)
    l2 = (np.cos(2 * th) - 1.0) / (2 * th)
    l3 = 1.0 - np.sin(2 * th) / (2 * th)
    g = (q * l1) @ q.T + (q * l2) @ r.T + (r * l2) @ q.T + (r * l3) @ r.T
    return (g + g.T) / 2


def gfk_map(xs: np.ndarray, xt: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Source and target rows mapped by G^{1/2} (negative round-off eigenvalues of G set to
    0); the features keep d columns, of which at most 2 ``dim`` directions carry signal."""
    s, t = check_pair(xs, xt)
    w, v = np.linalg.eigh(gfk_matrix(s, t, dim))
    root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return s @ root, t @ root
