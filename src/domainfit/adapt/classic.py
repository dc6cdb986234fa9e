"""Classic feature-level domain adaptation for feature data (numpy / scipy / scikit-learn):
labelled source rows ``xs, ys`` and unlabelled target rows ``xt`` become new source and target
features, on which any classifier of ``classic_classifiers`` is trained (source) and applied
(target).

Methods, by name in ``CLASSIC_METHODS`` (each ``method(xs, ys, xt, **params) -> Adapted``):

- ``none``: the features unchanged (source-only baseline).
- ``coral``: CORAL re-colouring of the source (``eps``), ``classic_align.coral_recolor``.
- ``sa``: subspace alignment (``dim``), ``classic_align.subspace_alignment``.
- ``tca``: Transfer Component Analysis (``dim, mu, kernel, gamma, normalize``),
  ``classic_tca.tca``.
- ``jda``: Joint Distribution Adaptation (``dim, lam, iterations, kernel, classifier, gamma,
  normalize``), ``classic_jda.jda``; its pseudo-labelling history comes back in ``Adapted``.
- ``gfk``: Geodesic Flow Kernel features (``dim``), ``classic_gfk.gfk_map``.
- ``pca``: the JDA paper's PCA baseline: source and target projected together on their top
  ``dim`` principal components (no adaptation beyond the shared subspace).

``domainfit.classic_params`` names each parameter as the papers do (λ, k, μ) and takes those
names as aliases.

Methods that are classifiers themselves (they give target predictions, not features): MEDA
(``classic_meda.meda``, GFK + ARTL) and the label-free ARTL ensemble
(``classic_ensemble.artl_ensemble``).

``adapt_and_classify`` chains one method and one classifier; the probabilities it returns (for
``logreg``) are what the label-free validators of ``validators`` score.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from domainfit.adapt.classic_align import (
    check_dim,
    check_pair,
    coral_recolor,
    office_caltech_preprocess,
    subspace_alignment,
)
from domainfit.adapt.classic_classifiers import CLASSIFIERS, Classifier, make_classifier
from domainfit.adapt.classic_ensemble import EnsembleResult, artl_ensemble
from domainfit.adapt.classic_gfk import gfk_map
from domainfit.adapt.classic_jda import JDAResult, jda
from domainfit.adapt.classic_meda import ARTLResult, artl, meda
from domainfit.adapt.classic_tca import tca

__all__ = [
    "CLASSIC_METHODS",
    "CLASSIFIERS",
    "ARTLResult",
    "Adapted",
    "Classified",
    "Classifier",
    "EnsembleResult",
    "JDAResult",
    "adapt",
    "adapt_and_classify",
    "artl",
    "artl_ensemble",
    "coral_recolor",
    "gfk_map",
    "jda",
    "make_classifier",
    "meda",
    "office_caltech_preprocess",
    "subspace_alignment",
    "tca",
]


@dataclass
class Adapted:
    """New source and target features; JDA adds its target pseudo-labels per iteration."""

    zs: np.ndarray
    zt: np.ndarray
    history: list[np.ndarray] = field(default_factory=list)


def _none(xs: np.ndarray, ys: np.ndarray, xt: np.ndarray) -> Adapted:
    s, t = check_pair(xs, xt)
    return Adapted(s, t)


def _coral(xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, eps: float = 1.0) -> Adapted:
    return Adapted(coral_recolor(xs, xt, eps), np.asarray(xt, dtype=np.float64))


def _sa(xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, dim: int = 100) -> Adapted:
    return Adapted(*subspace_alignment(xs, xt, dim))


def _tca(
    xs: np.ndarray,
    ys: np.ndarray,
    xt: np.ndarray,
    dim: int = 100,
    mu: float = 1.0,
    kernel: str = "linear",
    gamma: float | None = None,
    normalize: bool = False,
) -> Adapted:
    return Adapted(*tca(xs, xt, dim, mu=mu, kernel=kernel, gamma=gamma, normalize=normalize))


def _jda(
    xs: np.ndarray,
    ys: np.ndarray,
    xt: np.ndarray,
    dim: int = 100,
    lam: float = 1.0,
    iterations: int = 10,
    kernel: str = "primal",
    classifier: str | Callable[[], Classifier] = "1nn",
    gamma: float | None = None,
    normalize: bool = True,
) -> Adapted:
    r = jda(xs, ys, xt, dim, lam, iterations, kernel, classifier, gamma, normalize)
    return Adapted(r.zs, r.zt, r.history)


def _gfk(xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, dim: int = 20) -> Adapted:
    return Adapted(*gfk_map(xs, xt, dim))


def _pca(xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, dim: int = 100) -> Adapted:
    s, t = check_pair(xs, xt)
    both = np.vstack([s, t])
    k = check_dim(dim, min(both.shape), "at most min(samples, features)")
    centred = both - both.mean(axis=0)
    # thin SVD of the joint data: the right singular vectors are the principal axes, and
    # no labels are used, as in the JDA paper's PCA baseline
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    z = centred @ vt[:k].T
    return Adapted(z[: len(s)], z[len(s) :])


CLASSIC_METHODS: dict[str, Callable[..., Adapted]] = {
    "none": _none,
    "coral": _coral,
    "sa": _sa,
    "tca": _tca,
    "jda": _jda,
    "gfk": _gfk,
    "pca": _pca,
}


def method_params(name: str) -> list[str]:
    """The keyword parameters a method takes (after xs, ys, xt)."""
    return list(inspect.signature(_get(name)).parameters)[3:]


def _get(name: str) -> Callable[..., Adapted]:
    if name not in CLASSIC_METHODS:
        known = ", ".join(CLASSIC_METHODS)
        raise ValueError(f"unknown adaptation method '{name}'; known: {known}")
    return CLASSIC_METHODS[name]


def adapt(name: str, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, **params: Any) -> Adapted:
    """Run the method ``name`` with ``params``; an unknown name or parameter is a ValueError."""
    fn = _get(name)
    unknown = sorted(set(params) - set(method_params(name)))
    if unknown:
        takes = ", ".join(method_params(name)) or "no parameters"
        raise ValueError(f"method '{name}' takes {takes}; got unknown {', '.join(unknown)}")
    return fn(xs, ys, xt, **params)


@dataclass
class Classified:
    """Target predictions (and probabilities where the classifier has them)."""

    predictions: np.ndarray
    probabilities: np.ndarray | None
    adapted: Adapted


def adapt_and_classify(
    name: str,
    xs: np.ndarray,
    ys: np.ndarray,
    xt: np.ndarray,
    classifier: str = "1nn",
    c: float = 1.0,
    **params: Any,
) -> Classified:
    """Adapt with ``name``, train ``classifier`` (inverse strength ``c``) on the new source
    features and predict the target. For ``jda`` the same classifier also labels the target
    inside its loop, unless ``params`` names another one."""
    if name == "jda":
        params.setdefault("classifier", lambda: make_classifier(classifier, c))
    adapted = adapt(name, xs, ys, xt, **params)
    clf = make_classifier(classifier, c).fit(adapted.zs, ys)
    return Classified(clf.predict(adapted.zt), clf.predict_proba(adapted.zt), adapted)
