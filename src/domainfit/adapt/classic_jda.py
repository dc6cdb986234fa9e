"""Joint Distribution Adaptation (Long, Wang, Ding, Sun & Yu, ICCV 2013).

JDA extends TCA's marginal MMD with one conditional MMD term per class, computed with target
pseudo-labels that are refined over iterations:

    min_A  sum_{c=0}^{C} tr(A^T K^T M_c K A) + lam ||A||_F^2   s.t.  A^T K^T H K A = I,

where M_0 = e_0 e_0^T is the marginal term and M_c = e_c e_c^T compares the source samples of
class c with the target samples currently predicted as c (see ``classic_tca``). Each iteration
solves the generalised eigenproblem for A, embeds Z = K A, trains the classifier on the source
embedding and predicts the target, whose predictions become the next pseudo-labels. The first
iteration has no pseudo-labels yet (M = M_0, i.e. TCA).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from domainfit.adapt.classic_align import check_dim, check_pair
from domainfit.adapt.classic_classifiers import Classifier, make_classifier
from domainfit.adapt.classic_tca import (
    KERNELS,
    dim_limit,
    factored_basis,
    mmd_directions,
    mmd_vectors,
    row_normalize,
)
from domainfit.progress import track

ClassifierSpec = str | Callable[[], Classifier]


@dataclass
class JDAResult:
    """The final embedding and target predictions, and the pseudo-labels of every iteration
    (``history[i]`` = predictions after iteration i + 1; ``history[-1]`` is ``predictions``)."""

    zs: np.ndarray
    zt: np.ndarray
    predictions: np.ndarray
    probabilities: np.ndarray | None
    history: list[np.ndarray] = field(default_factory=list)


def new_classifier(spec: ClassifierSpec) -> Classifier:
    return make_classifier(spec) if isinstance(spec, str) else spec()


def jda(
    xs: np.ndarray,
    ys: np.ndarray,
    xt: np.ndarray,
    dim: int,
    lam: float = 1.0,
    iterations: int = 10,
    kernel: str = "primal",
    classifier: ClassifierSpec = "1nn",
    gamma: float | None = None,
    normalize: bool = True,
) -> JDAResult:
    """Run JDA for ``iterations`` rounds of (solve, embed, classify, re-label).

    ``kernel``: ``primal`` (A acts on the d features), ``linear`` or ``rbf`` (A acts on the
    n x n kernel matrix; ``gamma`` as in ``classic_tca.kernel_matrix``). ``classifier``: a
    name for ``make_classifier`` or a factory of fresh ``Classifier`` objects. With
    ``normalize`` each sample is scaled to unit L2 norm before the kernel and each embedded
    sample after the projection, as in the authors' released implementation. ``dim`` is at most
    d (primal) or n_s + n_t (kernels). Deterministic: the same inputs give the same result.
    """
    s, t = check_pair(xs, xt)
    y = np.asarray(ys)
    if y.shape != (len(s),):
        raise ValueError(f"ys must hold one label per source row ({len(s)}), got {y.shape}")
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel '{kernel}'; known: {', '.join(KERNELS)}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
    dim = check_dim(dim, dim_limit(kernel, s.shape[1], len(s) + len(t)), f"{kernel} kernel")
    # Factored once: with d > n (primal) or d < n (linear) every iteration's eigenproblem is
    # then r x r, r = rank <= min(n, d), instead of p x p.
    k, basis = factored_basis(s, t, kernel, gamma, normalize)
    ns = len(s)
    pseudo: np.ndarray | None = None
    history: list[np.ndarray] = []
    zs = zt = proba = None
    for _ in track(range(iterations), "JDA iterations", unit="iteration"):
        a, _nu = mmd_directions(k, mmd_vectors(ns, len(t), y, pseudo), dim, lam, basis)
        z = k @ a
        if normalize:
            z = row_normalize(z)
        zs, zt = z[:ns], z[ns:]
        clf = new_classifier(classifier).fit(zs, y)
        pseudo = clf.predict(zt)
        proba = clf.predict_proba(zt)
        history.append(pseudo)
    assert zs is not None and zt is not None and pseudo is not None
    return JDAResult(zs, zt, pseudo, proba, history)
