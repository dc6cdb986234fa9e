"""Data findings read off the audit: duplicates, leakage, missing values, imbalance, size.

The audit counts exactly; these checks decide how much a count matters. Thresholds are shares
of the data (a handful of duplicates in 10,000 rows is noise, 10% is a problem).
"""

from __future__ import annotations

from typing import Any

from domainfit.config import RunConfig
from domainfit.data.audit import AuditReport
from domainfit.data.audit_checks import AuditItem
from domainfit.data.pipeline import PreparedData
from domainfit.diagnose.advice import (
    Suggestion,
    advise,
    as_dict,
    built_from_data,
    equals,
    one_of,
)
from domainfit.diagnose.findings import Finding, grade
from domainfit.diagnose.leakage_findings import leakage

# Labelled training samples per class below which fine-tuning estimates are unreliable, and
# evaluation samples below which a 95% interval on accuracy is wider than about +-10 points.
MIN_TRAIN_PER_CLASS = 20
MIN_EVAL = 100


def data_findings(report: AuditReport, prepared: PreparedData, cfg: RunConfig) -> list[Finding]:
    sizes = {d.domain: d.samples for d in report.domains}
    out: list[Finding] = []
    out += _duplicates(report, sizes, cfg)
    out += leakage(report, prepared, cfg)
    out += _missing(report, sizes)
    out += _imbalance(report, cfg)
    out += _too_few(prepared, cfg)
    return out


def _items(report: AuditReport, check: str) -> list[AuditItem]:
    return [i for i in report.items if i.check == check and i.count > 0]


def _duplicates(report: AuditReport, sizes: dict[str, int], cfg: RunConfig) -> list[Finding]:
    out = []
    for item in _items(report, "exact_duplicates"):
        share = item.count / max(1, sizes.get(item.domain, 1))
        sev = grade(share, medium=0.05, high=0.2, low=0.005)
        if sev is None or cfg.clean.drop_duplicates:
            continue
        out.append(
            Finding(
                "duplicates",
                sev,
                f"{item.count} repeated samples in {item.domain} ({share:.1%})",
                {"count": item.count, "share": round(share, 4)},
                "clean.drop_duplicates: true (repeats overweight some samples and can straddle "
                "the splits)",
                score=share,
                domain=item.domain,
                examples=item.examples,
            )
        )
    return out


def _missing(report: AuditReport, sizes: dict[str, int]) -> list[Finding]:
    out = []
    for item in _items(report, "missing_values"):
        rows = int(item.data.get("rows", item.count))
        share = rows / max(1, sizes.get(item.domain, 1))
        sev = grade(share, medium=0.05, high=0.3, low=0.0)
        assert sev is not None
        out.append(
            Finding(
                "missing_values",
                sev,
                f"{rows} rows with missing inputs in {item.domain} ({share:.1%})",
                {
                    "rows": rows,
                    "cells": item.count,
                    "share": round(share, 4),
                    "per_column": item.data.get("per_column", {}),
                },
                "preprocess.impute: median (tables), or clean.missing: drop",
                score=share,
                domain=item.domain,
                examples=item.examples,
            )
        )
    return out


def _imbalance(report: AuditReport, cfg: RunConfig) -> list[Finding]:
    out = []
    for item in report.items:
        if item.check != "class_balance" or not item.data.get("counts"):
            continue
        ratio = float(item.data["ratio"])
        sev = grade(ratio, medium=5.0, high=20.0, low=2.0)
        if sev is None:
            continue
        out.append(
            Finding(
                "class_imbalance",
                sev,
                f"largest class {ratio:.1f}x the smallest in {item.domain}",
                {"ratio": round(ratio, 2), "counts": item.data["counts"]},
                advise(
                    as_dict(cfg),
                    [
                        Suggestion("judge by balanced_accuracy / f1_macro (not accuracy)"),
                        Suggestion(
                            "split.method: stratified",
                            "split.method",
                            one_of("stratified", "auto"),
                        ),
                        Suggestion("for severe ratios collect more of the rare classes"),
                    ],
                    "",
                ),
                score=ratio,
                domain=item.domain,
            )
        )
    return out


def _too_few(prepared: PreparedData, cfg: RunConfig) -> list[Finding]:
    out = []
    ds = prepared.clean.get("source")
    folds = prepared.folds.get("source")
    if ds is None or not folds or ds.labels is None or prepared.task is None:
        return out
    train = folds[0]["train"]
    evaluation = len(folds[0]["test"]) or len(folds[0]["val"])
    evidence: dict[str, int | float] = {"train": len(train), "evaluation": evaluation}
    per_class = len(train)
    if prepared.task != "regression":
        _, counts = _class_counts(ds.labels[train])
        per_class = int(min(counts)) if len(counts) else 0
        evidence["smallest_class_in_train"] = per_class
    problems = []
    if per_class < MIN_TRAIN_PER_CLASS:
        problems.append(f"{per_class} training samples in the smallest class")
    if 0 < evaluation < MIN_EVAL:
        problems.append(f"{evaluation} evaluation samples")
    if not problems:
        return out
    if per_class < MIN_TRAIN_PER_CLASS / 4:
        sev = "high"
    elif per_class < MIN_TRAIN_PER_CLASS or evaluation < MIN_EVAL / 2:
        sev = "medium"
    else:
        sev = "low"  # only the interval is wide: results are noisy, not wrong
    settings = as_dict(cfg)
    out.append(
        Finding(
            "too_few_samples",
            sev,
            "; ".join(problems) + f" in {ds.domain}",
            evidence,
            advise(
                settings,
                [
                    _fewer_parameters(settings),
                    Suggestion(
                        "split.method: kfold for evaluation with confidence intervals",
                        "split.method",
                        equals("kfold"),
                    ),
                ],
                "collect more labelled samples: the config already "
                + ("uses a small network" if built_from_data(settings) else "trains a head only")
                + " and evaluates across folds",
            ),
            score=1.0 / max(1, per_class),
            domain=ds.domain,
        )
    )
    return out


def _fewer_parameters(settings: dict[str, Any]) -> Suggestion:
    if built_from_data(settings):
        # nothing pretrained to probe: a linear probe of a random network reads noise
        return Suggestion(
            "a smaller network (model.backbone: mlp:32): few samples fit few parameters",
            "model.backbone",
            _small_network,
        )
    return Suggestion(
        "strategy.name: linear_probe (few samples fit a head, not a network)",
        "strategy.name",
        one_of("linear_probe", "frozen"),
    )


def _small_network(spec: object) -> bool:
    kind, _, widths = str(spec).strip().lower().partition(":")
    try:
        return kind == "mlp" and max(int(w) for w in widths.split(",")) <= 32
    except ValueError:  # bare "mlp" (256,256) or an unreadable list
        return False


def _class_counts(labels: object) -> tuple[list[str], list[int]]:
    from collections import Counter

    counts = Counter(str(v) for v in labels)  # type: ignore[attr-defined]
    return list(counts), list(counts.values())
