"""Adaptation regularisation (ARTL, Long, Wang, Ding, Pan & Yu, IEEE TKDE 2014) and MEDA
(Manifold Embedded Distribution Alignment, Wang, Feng, Chen, Yu, Huang & Yu, ACM MM 2018).

ARTL learns a kernel classifier f(x) = sum_i alpha_i k(x_i, x) over all n = n_s + n_t samples
(one column of alpha per class) by

    min_alpha ||(Y - K alpha)^T E||_F^2 + eta tr(alpha^T K alpha)
              + lam tr(alpha^T K M K alpha) + rho tr(alpha^T K L K alpha),

where E = diag(1 on source rows, 0 on target rows), Y one-hot source labels, M the MMD matrix
(1 - mu) M_0 + mu sum_c M_c (marginal and class-conditional terms of ``classic_tca``, with
target pseudo-labels, scaled to unit Frobenius norm) and L the normalised graph Laplacian
I - D^{-1/2} W D^{-1/2} of the symmetrised ``neighbours``-nearest-neighbour graph of all
samples (W_ij = cosine similarity). Setting the gradient to zero gives

    alpha = ((E + lam M + rho L) K + eta I)^{-1} E Y.

Each iteration re-labels the target with argmax_c f_c(x) and rebuilds M. M has rank at most
C + 1, so with B = (E + rho L) K + eta I factorised once, every iteration is a rank-(C + 1)
Woodbury update (no new n x n factorisation).

MEDA = GFK features (``classic_gfk.gfk_map``, unit-norm rows) + 1-NN initial pseudo-labels +
ARTL with an RBF kernel. ``artl`` also takes several views of the same samples, whose scores
are averaged before each re-labelling (all views share the pseudo-labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg

from domainfit.adapt.classic_align import check_pair
from domainfit.adapt.classic_classifiers import make_classifier
from domainfit.adapt.classic_gfk import gfk_map
from domainfit.adapt.classic_tca import kernel_matrix, mmd_vectors, row_normalize
from domainfit.progress import track


@dataclass
class ARTLResult:
    """Target predictions and the (n_t, C) scores f_c(x) they are the argmax of (columns in
    the order of ``classes``); ``history[i]`` = predictions after iteration i + 1."""

    predictions: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    history: list[np.ndarray] = field(default_factory=list)


def knn_laplacian(x: np.ndarray, neighbours: int) -> np.ndarray:
    """I - D^{-1/2} W D^{-1/2}: W keeps each row's ``neighbours`` largest cosine similarities
    (negative ones dropped), symmetrised by the elementwise maximum."""
    n = len(x)
    if not 1 <= neighbours < n:
        raise ValueError(f"neighbours must be between 1 and {n - 1}, got {neighbours}")
    z = row_normalize(x)
    sim = z @ z.T
    np.fill_diagonal(sim, -np.inf)
    nearest = np.argpartition(-sim, neighbours - 1, axis=1)[:, :neighbours]
    rows = np.repeat(np.arange(n), neighbours)
    w = np.zeros((n, n))
    w[rows, nearest.ravel()] = np.maximum(sim[rows, nearest.ravel()], 0.0)
    w = np.maximum(w, w.T)
    deg = w.sum(axis=1)
    inv = 1.0 / np.sqrt(np.where(deg > 0, deg, 1.0))
    return np.eye(n) - inv[:, None] * w * inv[None, :]


class ARTLSolver:
    """One view's fixed part of the ARTL system, factorised once: B = (E + rho L) K + eta I,
    and B^{-1} E Y. ``scores`` then solves the full system for any MMD matrix and lam."""

    def __init__(
        self, k: np.ndarray, ns: int, onehot: np.ndarray, eta: float = 0.1, rho: float = 0.0,
        laplacian: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        if not (eta > 0 and rho >= 0):
            raise ValueError(f"need eta > 0 and rho >= 0, got eta={eta}, rho={rho}")
        n = len(k)
        self.k, self.ns = k, ns
        fixed = np.zeros((n, n))
        fixed[np.arange(ns), np.arange(ns)] = 1.0
        if rho > 0:
            if laplacian is None:
                raise ValueError("rho > 0 needs the graph Laplacian")
            fixed += rho * laplacian
        self.lu = scipy.linalg.lu_factor(fixed @ k + eta * np.eye(n))
        rhs = np.zeros((n, onehot.shape[1]))
        rhs[:ns] = onehot
        self.alpha0 = scipy.linalg.lu_solve(self.lu, rhs)

    def scores(self, e: np.ndarray, weights: np.ndarray, lam: float) -> np.ndarray:
        """Target rows of K alpha for A = B + lam E_r^T diag(w) (E_r K), by the Woodbury
        identity A^{-1} = B^{-1} - B^{-1} U (I + V B^{-1} U)^{-1} V B^{-1}, U = E_r^T."""
        u = e.T  # (n, r)
        v = lam * weights[:, None] * (e @ self.k)  # (r, n)
        bu = scipy.linalg.lu_solve(self.lu, u)
        small = np.eye(len(e)) + v @ bu
        alpha = self.alpha0 - bu @ np.linalg.solve(small, v @ self.alpha0)
        return (self.k @ alpha)[self.ns :]


def mmd_weights(e: np.ndarray, mu: float) -> np.ndarray:
    """Weights w of M = sum_c w_c e_c e_c^T = ((1 - mu) M_0 + mu sum_c M_c) / ||.||_F."""
    w = np.full(len(e), mu)
    w[0] = 1.0 - mu if len(e) > 1 else 1.0
    gram = (e * w[:, None]) @ e.T
    return w / np.sqrt((gram * gram).sum())


def artl_loop(
    solvers: Sequence[ARTLSolver], y: np.ndarray, classes: np.ndarray, init: np.ndarray,
    iterations: int, lam: float, mu: float,
) -> ARTLResult:  # fmt: skip
    """The pseudo-labelling loop: ``y`` source class indices, ``init`` target class indices."""
    ns, nt = solvers[0].ns, len(solvers[0].k) - solvers[0].ns
    pseudo = init
    history: list[np.ndarray] = []
    scores = np.zeros((nt, len(classes)))
    for _ in track(range(iterations), "MEDA iterations", unit="iteration"):
        e = mmd_vectors(ns, nt, y, pseudo)
        w = mmd_weights(e, mu)
        scores = np.mean([s.scores(e, w, lam) for s in solvers], axis=0)
        pseudo = scores.argmax(axis=1)
        history.append(classes[pseudo])
    return ARTLResult(classes[pseudo], scores, classes, history)


def artl(
    views: Sequence[tuple[np.ndarray, np.ndarray]],
    ys: np.ndarray,
    init: np.ndarray,
    iterations: int = 10,
    lam: float = 10.0,
    eta: float = 0.1,
    rho: float = 1.0,
    mu: float = 0.5,
    neighbours: int = 10,
    kernel: str = "rbf",
    gamma: float | None = None,
) -> ARTLResult:
    """ARTL (module docstring) on one or more (X_s, X_t) views sharing pseudo-labels; ``init``
    are the first target pseudo-labels. The views' scores are averaged."""
    if not views:
        raise ValueError("artl needs at least one (xs, xt) view")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
    if not (lam >= 0 and eta > 0 and rho >= 0 and 0 <= mu <= 1):
        raise ValueError(f"need lam >= 0, eta > 0, rho >= 0, 0 <= mu <= 1; got {lam, eta, rho, mu}")
    pairs = [check_pair(s, t) for s, t in views]
    ns, nt = len(pairs[0][0]), len(pairs[0][1])
    if any((len(s), len(t)) != (ns, nt) for s, t in pairs):
        raise ValueError("every view must hold the same source and target samples")
    classes, y = np.unique(np.asarray(ys), return_inverse=True)
    if y.shape != (ns,):
        raise ValueError(f"ys must hold one label per source row ({ns}), got {np.shape(ys)}")
    onehot = np.eye(len(classes))[y]
    pseudo = np.searchsorted(classes, np.asarray(init))
    if np.shape(init) != (nt,) or not np.isin(init, classes).all():
        raise ValueError("init must hold one source class per target row")
    solvers = []
    for s, t in pairs:
        x = np.vstack([s, t])
        lap = knn_laplacian(x, neighbours) if rho > 0 else None
        k = kernel_matrix(x, kernel, gamma)
        solvers.append(ARTLSolver(k, ns, onehot, eta, rho, lap))
    return artl_loop(solvers, y, classes, pseudo, iterations, lam, mu)


def gfk_views(
    xs: np.ndarray, xt: np.ndarray, dims: Sequence[int]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One (Z_s, Z_t) view per GFK dimension, rows scaled to unit L2 norm."""
    out = []
    for dim in dims:
        zs, zt = gfk_map(xs, xt, dim)
        out.append((row_normalize(zs), row_normalize(zt)))
    return out


def nn_vote(views: Sequence[tuple[np.ndarray, np.ndarray]], ys: np.ndarray) -> np.ndarray:
    """1-NN target predictions of each view; with several views the most frequent class
    (ties to the smallest label)."""
    preds = np.stack([make_classifier("1nn").fit(s, ys).predict(t) for s, t in views])
    if len(preds) == 1:
        return preds[0]
    classes = np.unique(ys)
    counts = (preds[:, :, None] == classes[None, None, :]).sum(axis=0)
    return classes[counts.argmax(axis=1)]


def meda(xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, dim: int = 20, **kw: Any) -> ARTLResult:
    """MEDA with the paper's defaults (GFK dim 20, lam 10, eta 0.1, rho 1, 10 neighbours,
    10 iterations, RBF kernel), 1-NN initial labels on the GFK features; ``mu`` is fixed
    (0.5) rather than MEDA's estimate. ``kw`` go to ``artl``."""
    views = gfk_views(xs, xt, [dim])
    return artl(views, ys, nn_vote(views, ys), **kw)
