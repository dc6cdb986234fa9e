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

from domainfit.diagnose.advice import Suggestion, advise, one_of
from domainfit.diagnose.findings import Finding, grade
from domainfit.diagnose.shift_advice import domain_gap_fix, label_shift_fix

FOLDS = 5
MAX_ROWS = 4000  # per domain, subsampled (seeded) above this: the checks are statistics
CONFIDENT_SHARE = 0.6  # of cross-validated errors, below which label_noise drops a level


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


def label_noise(
    src: Labelled, seed: int = 0, cfg: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Confident-learning suspects, each judged "label looks wrong" or "model gets it wrong"
    by the rule in :mod:`label_review`; the most contradicted are listed in the detail."""
    from domainfit.diagnose.label_review import (
        LABEL_WRONG,
        neighbour_agreement,
        review_rows,
        verdicts,
    )

    keep = src.labelled
    x, y = src.x[keep], src.y[keep]
    if len(y) < 2 * FOLDS or len(np.unique(y)) < 2:
        return []
    probs = out_of_fold_probs(x, y, seed)
    suspects = confident_disagreements(probs, y)
    rate = len(suspects) / len(y)
    errors = int((probs.argmax(1) != y).sum())
    accuracy = 1.0 - errors / len(y)
    # wrong labels produce disagreements the model is sure of; a hard task (or weak features)
    # produces unsure ones. When most disagreements are unsure, difficulty explains them as
    # well as noise does, and the finding drops a level.
    confident_share = len(suspects) / max(1, errors)
    sev = grade(rate, medium=0.08, high=0.15, low=0.04)
    if sev is None:
        return []
    if confident_share < CONFIDENT_SHARE:
        sev = {"high": "medium", "medium": "low", "low": "low"}[sev]  # type: ignore[assignment]
    agree = neighbour_agreement(x, y, suspects, probs[suspects].argmax(1))
    verdict = verdicts(probs, y, suspects, agree)
    wrong = verdict.count(LABEL_WRONG)
    hard = len(verdict) - wrong
    rows = np.flatnonzero(keep)
    ids = [src.ids[i] for i in rows]
    shown = [src.shown[i] for i in rows] if src.shown is not None else None
    detail = review_rows(suspects, probs, y, agree, verdict, ids, shown, src.classes)
    return [
        Finding(
            "label_noise",
            sev,
            f"about {rate:.0%} of {src.domain}'s labels are confidently contradicted by its "
            f"features: {wrong} look mislabelled, {hard} look like hard examples the model "
            "gets wrong",
            {
                "estimated_noise_rate": round(rate, 4),
                "suspects": len(suspects),
                "label_looks_wrong": wrong,
                "model_gets_it_wrong": hard,
                "cv_accuracy": round(accuracy, 4),
                "confident_share_of_errors": round(confident_share, 4),
                "labelled": len(y),
            },
            _noise_fix(cfg or {}, wrong),
            score=rate,
            domain=src.domain,
            examples=_review_order(suspects, probs, y, verdict, ids),
            detail=detail,
        )
    ]


def _review_order(
    suspects: np.ndarray, probs: np.ndarray, y: np.ndarray, verdict: list[str], ids: list[str]
) -> list[str]:
    """Every suspect's id: those whose label looks wrong first, each group most contradicted
    first (``--json`` gives a reviewer the whole list, the console the top rows)."""
    from domainfit.diagnose.label_review import LABEL_WRONG

    given = probs[suspects, y[suspects]]
    order = sorted(range(len(suspects)), key=lambda n: (verdict[n] != LABEL_WRONG, given[n]))
    return [ids[int(suspects[n])] for n in order]


def _noise_fix(cfg: Mapping[str, Any], wrong: int) -> str:
    review = (
        "review the listed samples' labels, those marked 'label looks wrong' first"
        if wrong
        else "the suspects look like hard examples, not wrong labels: check them for "
        "ambiguous or overlapping classes before relabelling anything"
    )
    return advise(
        cfg,
        [
            Suggestion(review),
            Suggestion(
                "meanwhile train fewer parameters (strategy.name: linear_probe or lora), which "
                "memorise fewer wrong labels",
                "strategy.name",
                one_of("linear_probe", "lora", "frozen"),
            ),
            Suggestion(
                "stop on validation loss (train.early_stopping)",
                "train.early_stopping",
                lambda v: True,
            ),
        ],
        review,
    )


def label_shift(
    src: Labelled,
    tgt: Labelled,
    n_classes: int,
    seed: int = 0,
    cfg: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Class priors of source vs target: observed where the target file has labels, else
    estimated without them by black-box shift estimation (Lipton et al. 2018)."""
    from domainfit.diagnose.shift_stats import bbse_target_priors

    keep = src.labelled
    xs, ys = src.x[keep], src.y[keep]
    if len(ys) < 2 * FOLDS or n_classes < 2:
        return []
    p = np.bincount(ys, minlength=n_classes) / len(ys)
    estimated = bbse_target_priors(
        out_of_fold_probs(xs, ys, seed),
        ys,
        _classifier().fit(xs, ys).predict(tgt.x),
        n_classes,
    )
    known = tgt.y[tgt.labelled]
    observed = np.bincount(known, minlength=n_classes) / len(known) if len(known) else None
    q = observed if observed is not None else estimated
    tv = 0.5 * float(np.abs(p - q).sum())
    if not _beyond_sampling_noise(ys, known, tv, n_classes, len(tgt.y)):
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
    """Observed priors: a chi-squared test of homogeneity at 1%. Estimated ones: the distance
    must exceed twice the scale of a prior difference between samples of these sizes."""
    if len(known):
        from scipy.stats import chi2_contingency

        table = np.stack(
            [np.bincount(ys, minlength=n_classes), np.bincount(known, minlength=n_classes)]
        )
        table = table[:, table.sum(axis=0) > 0]
        return table.shape[1] > 1 and float(chi2_contingency(table)[1]) < 0.01
    return tv > 2.0 * float(np.sqrt(1.0 / len(ys) + 1.0 / max(1, n_target)))


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
        return []
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


def subsample(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Row indices: all rows, or ``n`` of them drawn without replacement."""
    if len(x) <= n:
        return np.arange(len(x))
    return np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))
