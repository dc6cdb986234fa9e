"""Label-free validators: scores of a model's predictions on unlabelled target data, used to
choose checkpoints and hyperparameters when no target label may be looked at. Higher is better.

- ``snd``: soft neighbourhood density (Saito et al., ICCV 2021). Each target sample's
  similarities to the others (cosine of the L2-normalised probability vectors, temperature
  ``tau``) become a softmax distribution; the score is its mean entropy. Well-adapted models
  put target samples in dense, class-consistent neighbourhoods: many near neighbours, high
  entropy.
- ``im``: information maximisation, H(mean_i p_i) - mean_i H(p_i): predictions confident per
  sample and diverse over the set (a model that collapses onto one class scores low).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_EPS = 1e-12


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    return -(p * np.log(p + _EPS)).sum(axis=axis)


def as_probabilities(probs: np.ndarray) -> np.ndarray:
    """(n, k) rows summing to 1; a binary model's (n,) positive-class probabilities widen."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 1:
        p = np.stack([1 - p, p], axis=1)
    if p.ndim != 2 or len(p) < 2:
        raise ValueError(f"need (n, k) probabilities for n >= 2 samples, got shape {p.shape}")
    return p


def information_maximization(probs: np.ndarray) -> float:
    p = as_probabilities(probs)
    return float(_entropy(p.mean(axis=0)) - _entropy(p).mean())


def snd(probs: np.ndarray, tau: float = 0.05, max_samples: int = 2000, seed: int = 0) -> float:
    """At most ``max_samples`` samples (a seeded subset) keep the n x n similarities small."""
    p = as_probabilities(probs)
    if len(p) > max_samples:
        p = p[np.random.default_rng(seed).choice(len(p), max_samples, replace=False)]
    z = p / (np.linalg.norm(p, axis=1, keepdims=True) + _EPS)
    sim = z @ z.T / tau
    np.fill_diagonal(sim, -np.inf)
    sim -= sim.max(axis=1, keepdims=True)
    w = np.exp(sim)
    w /= w.sum(axis=1, keepdims=True)
    return float(_entropy(w).mean())


VALIDATORS: dict[str, Callable[[np.ndarray], float]] = {
    "snd": snd,
    "im": information_maximization,
}


def validator_score(name: str, probs: np.ndarray) -> float:
    if name not in VALIDATORS:
        raise ValueError(f"unknown validator '{name}'; known: {', '.join(sorted(VALIDATORS))}")
    return VALIDATORS[name](probs)
