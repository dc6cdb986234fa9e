"""Findings that look at the data through features: label noise, label shift, domain gap.

Features are the backbone's (frozen, pretrained) for text and images, the fitted preprocessing's
for tables: what the model starts from, so a gap or a contradiction there is one it must
overcome. Classifiers here are deliberately simple (standardised logistic regression): they
measure the data, not a model choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from domainfit.diagnose.findings import Finding, grade
from domainfit.diagnose.shift_advice import domain_gap_fix, label_shift_fix

FOLDS = 5
MAX_ROWS = 4000  # per domain, subsampled (seeded) above this: the checks are statistics


@dataclass
class Labelled:
    """One domain's features with integer labels (-1: unlabelled) and sample ids; ``shown``:
    what a reviewer reads for each sample (its text or image path), ``classes``: the label
    names the integers stand for."""

    domain: str
    x: np.ndarray
    y: np.ndarray
    ids: list[str]
    shown: list[str] | None = None
    classes: list[str] | None = None

    @property
    def labelled(self) -> np.ndarray:
        return self.y >= 0


def _classifier(c: float = 0.1):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))


def out_of_fold_probs(x: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each sample's class probabilities from a model that never saw it."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = min(FOLDS, int(np.bincount(y).min()))
    if folds < 2:
        raise ValueError("every class needs at least 2 labelled samples for cross-validation")
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return np.asarray(cross_val_predict(_classifier(), x, y, cv=cv, method="predict_proba"))


def confident_disagreements(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices whose given label the out-of-fold model confidently contradicts: another class
    reaches that class's own average self-confidence and beats the given one (the counting
    rule of confident learning, Northcutt et al. 2021). Per-class thresholds keep a hard but
    clean task from looking noisy: its correct predictions are unsure too."""
    n_classes = probs.shape[1]
    thresholds = np.array(
        [probs[y == k, k].mean() if (y == k).any() else 1.0 for k in range(n_classes)]
    )
    given = probs[np.arange(len(y)), y]
    above = (probs >= thresholds[None, :]) & (probs > given[:, None])
    above[np.arange(len(y)), y] = False
    return np.flatnonzero(above.any(axis=1))


def label_shift(
    src: Labelled,
    tgt: Labelled,
    n_classes: int,
    seed: int = 0,
    cfg: Mapping[str, Any] | None = None,
    probs: np.ndarray | None = None,
) -> list[Finding]:
    """Class priors of source vs target: observed where the target file has labels, else
    estimated without them by black-box shift estimation (Lipton et al. 2018)."""
    from domainfit.diagnose.shift_stats import bbse_target_priors

    keep = src.labelled
    xs, ys = src.x[keep], src.y[keep]
    if len(ys) < 2 * FOLDS or n_classes < 2:
        return []
    p = np.bincount(ys, minlength=n_classes) / len(ys)
    probs = out_of_fold_probs(xs, ys, seed) if probs is None else probs
    predicted = _classifier().fit(xs, ys).predict(tgt.x)
    known = tgt.y[tgt.labelled]
    observed = np.bincount(known, minlength=n_classes) / len(known) if len(known) else None
    if observed is None and not _predictions_differ(probs.argmax(1), predicted, n_classes):
        return []  # also covers a classifier at chance, whose inverted confusion is noise
    estimated = bbse_target_priors(probs, ys, predicted, n_classes)
    q = observed if observed is not None else estimated
    tv = 0.5 * float(np.abs(p - q).sum())
    if observed is not None and not _beyond_sampling_noise(ys, known, tv, n_classes, len(tgt.y)):
        return []
    sev = grade(tv, medium=0.1, high=0.2, low=0.05)
    if sev is None:
        return []
    evidence: dict[str, object] = {
        "total_variation": round(tv, 4),
        "source_priors": np.round(p, 4).tolist(),
        "target_priors_estimated": np.round(estimated, 4).tolist(),
    }
    if observed is not None:
        evidence["target_priors_observed"] = np.round(observed, 4).tolist()
    return [
        Finding(
            "label_shift",
            sev,
            f"class priors differ between {src.domain} and {tgt.domain} (total variation "
            f"{tv:.2f}, {'observed' if observed is not None else 'estimated'})",
            evidence,
            label_shift_fix(cfg or {}),
            score=tv,
            domain=tgt.domain,
        )
    ]


def _beyond_sampling_noise(
    ys: np.ndarray, known: np.ndarray, tv: float, n_classes: int, n_target: int
) -> bool:
    """Observed priors: a chi-squared test of homogeneity at 1%."""
    return _differ(np.bincount(ys, minlength=n_classes), np.bincount(known, minlength=n_classes))


def _predictions_differ(source_pred: np.ndarray, target_pred: np.ndarray, n_classes: int) -> bool:
    """Estimated priors: black box shift detection (Lipton et al. 2018; Rabanser et al. 2019).
    With no label shift the classifier's predicted classes are distributed alike on held-out
    source rows and on the target, whatever its accuracy: a chi-squared test at 1% on those
    counts. A test on the BBSE estimate itself would have to carry the inverted confusion
    matrix's variance, which explodes for a weak classifier."""
    return _differ(
        np.bincount(source_pred, minlength=n_classes), np.bincount(target_pred, minlength=n_classes)
    )


def _differ(a: np.ndarray, b: np.ndarray) -> bool:
    from scipy.stats import chi2_contingency

    table = np.stack([a, b])
    table = table[:, table.sum(axis=0) > 0]
    return table.shape[1] > 1 and float(chi2_contingency(table)[1]) < 0.01


def domain_gap(
    src: Labelled,
    tgt: Labelled,
    seed: int = 0,
    adapting: str | None = None,
    cfg: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Proxy A-distance and MMD between the domains, against the same statistics between two
    halves of the source: a gap is only a gap if it exceeds that floor."""
    from domainfit.diagnose.advice import features_read
    from domainfit.diagnose.shift_stats import domain_gap as measure

    gap = measure(src.x, tgt.x, seed=seed)
    ratio = gap.ratio
    if gap.pad >= 1.5 and ratio >= 3:
        sev = "high"
    elif gap.pad >= 1.0 and ratio >= 2:
        sev = "medium"
    elif gap.pad >= 0.5 and ratio >= 2:
        sev = "low"
    else:
        return _small_shift(src, tgt, gap, seed, adapting, cfg)
    return [
        Finding(
            "domain_gap",
            sev,  # type: ignore[arg-type]
            f"{tgt.domain} is easy to tell from {src.domain} on {features_read(cfg or {})} "
            f"(proxy A-distance {gap.pad:.2f} vs {gap.pad_within:.2f} within {src.domain})",
            {
                "proxy_a_distance": round(gap.pad, 4),
                "proxy_a_distance_within_source": round(gap.pad_within, 4),
                "mmd2": round(gap.mmd2, 6),
                "mmd2_within_source": round(gap.mmd2_within, 6),
                "ratio": round(ratio, 2),
            },
            domain_gap_fix(cfg or {}, adapting),
            score=gap.pad,
            domain=tgt.domain,
        )
    ]


SMALL_SHIFT_P = 0.001


def _small_shift(
    src: Labelled,
    tgt: Labelled,
    gap: Any,
    seed: int,
    adapting: str | None,
    cfg: Mapping[str, Any] | None,
) -> list[Finding]:
    """A shift below PAD's tiers that a two-sample test still finds (:mod:`shift_test`):
    typically part of the target comes from somewhere the source does not cover."""
    from domainfit.diagnose.shift_test import domain_test_pvalue

    p = domain_test_pvalue(src.x, tgt.x, seed)
    if p >= SMALL_SHIFT_P:
        return []
    return [
        Finding(
            "domain_gap",
            "low",
            f"{tgt.domain} differs measurably from {src.domain} (domain classifier test "
            f"p = {p:.1e}) though not by much on average (proxy A-distance {gap.pad:.2f} vs "
            f"{gap.pad_within:.2f} within {src.domain}): part of {tgt.domain} may come from "
            "elsewhere",
            {
                "test_pvalue": float(f"{p:.3g}"),
                "proxy_a_distance": round(gap.pad, 4),
                "proxy_a_distance_within_source": round(gap.pad_within, 4),
                "mmd2": round(gap.mmd2, 6),
                "mmd2_within_source": round(gap.mmd2_within, 6),
            },
            "look at the target samples least like the source (domainfit audit lists the "
            "domains side by side); " + domain_gap_fix(cfg or {}, adapting),
            score=-np.log10(max(p, 1e-300)) / 100,
            domain=tgt.domain,
        )
    ]


def subsample(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Row indices: all rows, or ``n`` of them drawn without replacement."""
    if len(x) <= n:
        return np.arange(len(x))
    return np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))
