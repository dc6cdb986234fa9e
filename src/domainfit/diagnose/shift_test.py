"""A two-sample test for shifts too small for the proxy A-distance to call a gap.

Classifier two-sample test (Lopez-Paz and Oquab, "Revisiting classifier two-sample tests",
ICLR 2017): a logistic regression learns to tell source rows from target rows; each row's
score comes from a model fitted without it (5-fold), and a one-sided Mann-Whitney test asks
whether target rows score higher than source rows. With no shift the scores are exchangeable
and the test holds its level; a shift confined to part of the target (10-25% of its rows drawn
from another domain) moves that part's scores and is found where PAD, an average over all
rows, stays near its within-source floor.

Measured on benchmarks/diagnosis.py's data (seed 0 and 1): clean twins gave p >= 0.018; a
quarter of the target from the other domain gave p <= 4e-7 on all three sets; a tenth, p from
4e-5 (MiniLM reviews, 600 target rows) to 0.04 (SURF, 30 shifted rows of 295). Heavy
regularisation (C = 0.01) was the more powerful of the two strengths tried, on every set.
"""

from __future__ import annotations

import numpy as np

C = 0.01
FOLDS = 5


def domain_test_pvalue(xs: np.ndarray, xt: np.ndarray, seed: int = 0) -> float:
    """One-sided p-value of "target rows look no more target-like than source rows"."""
    from scipy.stats import mannwhitneyu
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # the proxy A-distance's width rule: the same domain classifier, the same reduction
    from domainfit.diagnose.shift_stats import PAD_SVD_ABOVE, PAD_SVD_DIMS

    x = np.vstack([xs, xt])
    d = np.r_[np.zeros(len(xs)), np.ones(len(xt))]
    if min(len(xs), len(xt)) < 2 * FOLDS:
        return 1.0
    steps: list[object] = [StandardScaler()]
    if x.shape[1] > PAD_SVD_ABOVE:
        steps.append(PCA(min(PAD_SVD_DIMS, len(x) - 1), random_state=seed))
    steps.append(LogisticRegression(C=C, max_iter=2000))
    cv = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    scores = cross_val_predict(make_pipeline(*steps), x, d, cv=cv, method="decision_function")
    return float(mannwhitneyu(scores[d == 1], scores[d == 0], alternative="greater").pvalue)
