"""Classifiers for feature-level domain adaptation, behind one fit / predict / probabilities
interface so a method (JDA's pseudo-labelling loop) or a benchmark can take any of them by name.

- ``1nn``: nearest neighbour in Euclidean distance (sklearn ``KNeighborsClassifier(1)``), the
  classifier of the JDA/TCA/MEDA papers. It has no class probabilities.
- ``logreg``: multinomial logistic regression (L2 penalty, strength 1/C). Its probabilities
  feed the label-free validators (``validators.snd``, ``validators.information_maximization``).
- ``svm``: one-vs-rest linear SVM (``LinearSVC``, squared hinge loss, strength 1/C, solved in
  the dual: on 800-d Office-Caltech features that is 10-15x faster than the primal solver
  at the same accuracy): decision scores only, no probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

CLASSIFIERS = ("1nn", "logreg", "svm")


@dataclass
class Classifier:
    """A fitted-on-demand sklearn estimator with the same calls whatever its kind."""

    name: str
    estimator: Any

    @property
    def has_proba(self) -> bool:
        return self.name == "logreg"

    def fit(self, x: np.ndarray, y: np.ndarray) -> Classifier:
        self.estimator.fit(np.asarray(x, dtype=np.float64), np.asarray(y))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict(np.asarray(x, dtype=np.float64)))

    def predict_proba(self, x: np.ndarray) -> np.ndarray | None:
        """(n, k) class probabilities in the order of ``classes``, or None (1-NN, SVM)."""
        if not self.has_proba:
            return None
        return np.asarray(self.estimator.predict_proba(np.asarray(x, dtype=np.float64)))

    @property
    def classes(self) -> np.ndarray:
        return np.asarray(self.estimator.classes_)


def make_classifier(name: str, c: float = 1.0, max_iter: int = 1000) -> Classifier:
    """A fresh classifier by name (see the module docstring); ``c`` is the inverse L2 strength
    of ``logreg`` and ``svm`` and is ignored by ``1nn``."""
    if not c > 0:
        raise ValueError(f"c must be > 0, got {c}")
    if name == "1nn":
        est: Any = KNeighborsClassifier(n_neighbors=1, algorithm="brute")
    elif name == "logreg":
        est = LogisticRegression(C=c, max_iter=max_iter)
    elif name == "svm":
        est = LinearSVC(C=c, dual=True, max_iter=max_iter, random_state=0)
    else:
        raise ValueError(f"unknown classifier '{name}'; known: {', '.join(CLASSIFIERS)}")
    return Classifier(name, est)
