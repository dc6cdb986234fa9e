"""``label_noise``: labels the features confidently contradict, and how many that may be.

How the numbers are obtained, in order:

1. **Out-of-fold probabilities**: a standardised logistic regression, 5-fold, so no sample is
   judged by a model that saw it (:func:`feature_findings.out_of_fold_probs`).
2. **Signal first**: the cross-validated accuracy must beat the majority-class rate (one-sided
   binomial test at 1%). At chance every error is "confident" (the model is as sure of its
   wrong guesses as of its right ones), so counting contradictions would measure how weak the
   features are, not the labels: the finding then says the labels cannot be predicted at all
   (high) and gives no rate.
3. **The upper figure**: the confident-learning count (Northcutt et al. 2021), samples whose
   label the model contradicts at least as surely as it confirms that class on average. It
   also counts hard examples: on the clean twins of ``benchmarks/diagnosis.py`` (real labels,
   nothing planted) it was 12% on Amazon kitchen reviews with MiniLM features.
4. **The review list**: cleanlab's ``find_label_issues`` on the same probabilities. On the
   benchmark's planted flips it found more of them than the count above at about the same
   precision, so it is used rather than rewritten.
5. **The lower figure**: listed samples that the model *and* their ten nearest neighbours place
   in another class (:mod:`label_review`). High precision, low recall: a model trained on many
   flipped labels stops contradicting them firmly.

The noise rate is reported as that range, lower to upper figure, never as one number: the
benchmark's planted flips show the truth lies between them (see ``benchmarks/README.md``).
Severity follows the upper figure, one level lower when most of the model's errors are unsure
(difficulty explains those as well as noise does).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from domainfit.diagnose.advice import Suggestion, advise, built_from_data, one_of
from domainfit.diagnose.feature_findings import (
    FOLDS,
    Labelled,
    confident_disagreements,
    out_of_fold_probs,
)
from domainfit.diagnose.findings import Finding, Severity, grade

CONFIDENT_SHARE = 0.6  # of cross-validated errors, below which label_noise drops a level
SIGNAL_P = 0.01
LOWER: dict[str, Severity] = {"high": "medium", "medium": "low", "low": "low"}


def label_noise(
    src: Labelled,
    seed: int = 0,
    cfg: Mapping[str, Any] | None = None,
    probs: np.ndarray | None = None,
) -> list[Finding]:
    return assess_label_noise(src, seed, cfg, probs)[0]


def assess_label_noise(
    src: Labelled,
    seed: int = 0,
    cfg: Mapping[str, Any] | None = None,
    probs: np.ndarray | None = None,
) -> tuple[list[Finding], str | None]:
    """The finding (or none) and, when the check could not judge, why. ``probs``: the
    labelled rows' out-of-fold probabilities when the caller has them already."""
    from domainfit.diagnose.label_review import (
        LABEL_WRONG,
        neighbour_agreement,
        review_rows,
        verdicts,
    )

    keep = src.labelled
    x, y = src.x[keep], src.y[keep]
    if len(y) < 2 * FOLDS or len(np.unique(y)) < 2:
        return [], "fewer than 10 labelled samples or a single class"
    if probs is None:
        probs = out_of_fold_probs(x, y, seed)
    errors = int((probs.argmax(1) != y).sum())
    accuracy = 1.0 - errors / len(y)
    chance = no_signal(accuracy, y)
    if chance is not None:
        return [_at_chance(src, accuracy, y, chance, cfg or {})], None
    contradicted = confident_disagreements(probs, y)
    upper = len(contradicted) / len(y)
    # wrong labels give disagreements the model is sure of; a hard task gives unsure ones
    confident_share = len(contradicted) / max(1, errors)
    sev = grade(upper, medium=0.08, high=0.15, low=0.04)
    if sev is None:
        return [], None
    if confident_share < CONFIDENT_SHARE:
        sev = LOWER[sev]
    suspects = cleanlab_suspects(probs, y)  # the review list: more of the wrong labels
    agree = neighbour_agreement(x, y, suspects, probs[suspects].argmax(1))
    verdict = verdicts(probs, y, suspects, agree)
    wrong = verdict.count(LABEL_WRONG)
    lower = min(wrong / len(y), upper)
    rows = np.flatnonzero(keep)
    ids = [src.ids[i] for i in rows]
    shown = [src.shown[i] for i in rows] if src.shown is not None else None
    detail = review_rows(suspects, probs, y, agree, verdict, ids, shown, src.classes)
    finding = Finding(
        "label_noise",
        sev,
        f"{_range(lower, upper)} of {src.domain}'s labels may be wrong; {len(suspects)} "
        f"flagged for review, {wrong} of which look mislabelled and {len(suspects) - wrong} "
        "like hard examples the model gets wrong",
        {
            "estimated_noise_rate": round(upper, 4),
            "estimated_noise_range": [round(lower, 4), round(upper, 4)],
            "how": "5-fold logistic regression on the features; upper: labels it confidently "
            "contradicts (confident learning); lower: flagged samples it and 7 of 10 nearest "
            "neighbours both place in another class; flagged: cleanlab's find_label_issues",
            "confidently_contradicted": len(contradicted),
            "suspects": len(suspects),
            "label_looks_wrong": wrong,
            "model_gets_it_wrong": len(suspects) - wrong,
            "cv_accuracy": round(accuracy, 4),
            "confident_share_of_errors": round(confident_share, 4),
            "labelled": len(y),
        },
        _noise_fix(cfg or {}, wrong),
        score=upper,
        domain=src.domain,
        examples=_review_order(suspects, probs, y, verdict, ids),
        detail=detail,
    )
    return [finding], None


def _at_chance(
    src: Labelled, accuracy: float, y: np.ndarray, why: str, cfg: Mapping[str, Any]
) -> Finding:
    """No estimate at chance: the finding says the labels and features do not go together,
    which mostly wrong labels and uninformative inputs explain equally well."""
    majority = float(np.bincount(y).max() / len(y))
    return Finding(
        "label_noise",
        "high",
        f"{src.domain}'s labels cannot be predicted from its features at all: {why}",
        {
            "cv_accuracy": round(accuracy, 4),
            "majority_rate": round(majority, 4),
            "labelled": len(y),
            "estimated_noise_rate": None,
        },
        "check that the label column is the right one and lines up with the inputs (a "
        "shifted join or a sorted column is a common cause), then read 20 random rows: if "
        "their labels look right, the inputs carry no signal for this backbone",
        score=1.0 - accuracy,
        domain=src.domain,
    )


def cleanlab_suspects(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of cleanlab's label issues (``find_label_issues``, pruning by the estimated
    noise rate per class pair)."""
    from cleanlab.filter import find_label_issues

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its notes on tiny classes; the finding says enough
        mask = find_label_issues(y, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    return np.flatnonzero(mask)


def _range(lower: float, upper: float) -> str:
    if f"{lower:.0%}" == f"{upper:.0%}":
        return f"about {upper:.0%}"
    return f"between {lower:.0%} and {upper:.0%}"


def no_signal(accuracy: float, y: np.ndarray) -> str | None:
    """Why noise cannot be judged, when the features predict the labels no better than always
    answering the commonest class; None when they do."""
    from scipy.stats import binomtest

    majority = float(np.bincount(y).max() / len(y))
    hits = round(accuracy * len(y))
    if majority >= 1.0 or binomtest(hits, len(y), majority, "greater").pvalue < SIGNAL_P:
        return None
    return (
        f"cross-validated accuracy {accuracy:.2f} against {majority:.2f} for always answering "
        "the commonest class; most labels being wrong and inputs without signal look alike "
        "here, so no noise rate is estimated"
    )


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
    fewer = (
        Suggestion(
            "meanwhile a smaller network (model.backbone: mlp:32) memorises fewer wrong labels",
        )
        if built_from_data(cfg)
        else Suggestion(
            "meanwhile train fewer parameters (strategy.name: linear_probe or lora), which "
            "memorise fewer wrong labels",
            "strategy.name",
            one_of("linear_probe", "lora", "frozen"),
        )
    )
    return advise(
        cfg,
        [
            Suggestion(review),
            fewer,
            Suggestion(
                "stop on validation loss (train.early_stopping)",
                "train.early_stopping",
                lambda v: True,
            ),
        ],
        review,
    )
