"""A label-free ensemble of ARTL classifiers over a fixed grid of views and hyperparameters.

Choosing MEDA's hyperparameters per task needs target labels (or a validator that only
loosely tracks accuracy), and single settings swing by 5-10 points on a task while their
average over tasks barely moves. Averaging instead of choosing: every member m of a grid
fixed in advance gives target scores F_m (n_t x C, ``classic_meda.ARTLResult.scores``), and
the ensemble predicts

    y_hat(x) = argmax_c (1 / |grid|) sum_m F_m(x)_c.

Members: views = GFK features at each of ``gfk_dims`` (1-NN initial labels, as MEDA) and JDA
embeddings at each of ``jda_dims`` (JDA's 1-NN predictions as initial labels), times ARTL's
lam x rho x neighbours grid. Per view the kernel, per neighbour count the graph Laplacian and
per (rho, neighbours) the factorised system are computed once (``classic_meda.ARTLSolver``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from domainfit.adapt.classic_align import check_pair
from domainfit.adapt.classic_jda import jda
from domainfit.adapt.classic_meda import (
    ARTLResult,
    ARTLSolver,
    artl_loop,
    gfk_views,
    knn_laplacian,
    nn_vote,
)
from domainfit.adapt.classic_tca import kernel_matrix


@dataclass
class Member:
    """One ensemble member: its settings and its ARTL result."""

    params: dict[str, Any]
    result: ARTLResult


@dataclass
class EnsembleResult:
    predictions: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    members: list[Member] = field(default_factory=list)


def scores_to_probabilities(scores: np.ndarray, tau: float = 0.1) -> np.ndarray:
    """softmax(F / tau) row-wise: ARTL regresses one-hot targets, so its scores become
    probabilities for the label-free validators (``validators``) at a fixed temperature."""
    s = np.asarray(scores, dtype=np.float64) / tau
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s)
    return p / p.sum(axis=1, keepdims=True)


def _views(
    xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, gfk_dims: Sequence[int],
    jda_dims: Sequence[int],
) -> list[tuple[dict[str, Any], np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    """(params, Z_s, Z_t, initial target labels) per view."""
    out = []
    for dim in gfk_dims:
        ((zs, zt),) = gfk_views(xs, xt, [dim])
        out.append(({"view": "gfk", "dim": dim}, zs, zt, nn_vote([(zs, zt)], ys)))
    for dim in jda_dims:
        r = jda(xs, ys, xt, dim)
        out.append(({"view": "jda", "dim": dim}, r.zs, r.zt, r.predictions))
    return out


def artl_ensemble(
    xs: np.ndarray,
    ys: np.ndarray,
    xt: np.ndarray,
    gfk_dims: Sequence[int] = (10, 20, 30, 40),
    jda_dims: Sequence[int] = (50, 100),
    lams: Sequence[float] = (1.0, 10.0),
    rhos: Sequence[float] = (0.1, 1.0),
    neighbours: Sequence[int] = (5, 10),
    eta: float = 0.1,
    mu: float = 0.5,
    iterations: int = 10,
) -> EnsembleResult:
    """The ensemble of the module docstring: |views| x |lams| x |rhos| x |neighbours|
    members (48 with the defaults: MEDA's settings and one step either side), RBF kernel.
    Deterministic."""
    s, t = check_pair(xs, xt)
    if not gfk_dims and not jda_dims:
        raise ValueError("the ensemble needs at least one GFK or JDA view")
    if not (lams and rhos and neighbours):
        raise ValueError("lams, rhos and neighbours must each hold at least one value")
    if min(rhos) <= 0:
        raise ValueError(f"every rho must be > 0 (the graph term), got {list(rhos)}")
    classes, y = np.unique(np.asarray(ys), return_inverse=True)
    if y.shape != (len(s),):
        raise ValueError(f"ys must hold one label per source row ({len(s)}), got {np.shape(ys)}")
    onehot = np.eye(len(classes))[y]
    members: list[Member] = []
    for view, zs, zt, init in _views(s, ys, t, gfk_dims, jda_dims):
        x = np.vstack([zs, zt])
        k = kernel_matrix(x, "rbf")
        pseudo = np.searchsorted(classes, init)
        for nb in neighbours:
            lap = knn_laplacian(x, nb)
            for rho in rhos:
                solver = ARTLSolver(k, len(s), onehot, eta, rho, lap)
                for lam in lams:
                    r = artl_loop([solver], y, classes, pseudo, iterations, lam, mu)
                    members.append(Member({**view, "lam": lam, "rho": rho, "neighbours": nb}, r))
    scores = np.mean([m.result.scores for m in members], axis=0)
    return EnsembleResult(classes[scores.argmax(axis=1)], scores, classes, members)
