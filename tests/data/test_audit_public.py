"""Audit counts on the real shared data, checked against an independent count."""

from __future__ import annotations

import numpy as np
import pytest

import domainfit
from domainfit.data.benchmarks import load_named


def test_kitchen_reviews_duplicates_match_plain_python() -> None:
    ds = load_named("amazon-reviews:kitchen")
    expected = len(ds.inputs) - len(set(ds.inputs))
    report = domainfit.audit(source="amazon-reviews:kitchen")
    assert report.get("kitchen", "exact_duplicates").count == expected == 23
    assert report.get("kitchen", "missing_values").count == 0
    assert report.get("kitchen", "class_balance").data["counts"] == {"0": 1000, "1": 1000}


def test_bag_of_words_release_agrees_with_raw_text() -> None:
    report = domainfit.audit(source="amazon-reviews-bow:kitchen")
    assert report.get("kitchen", "exact_duplicates").count == 23


def test_office_amazon_duplicates_match_numpy_unique() -> None:
    ds = load_named("office-caltech-surf:amazon")
    expected = len(ds.inputs) - len(np.unique(ds.inputs, axis=0))
    report = domainfit.audit(source="office-caltech-surf:amazon")
    assert report.get("amazon", "exact_duplicates").count == expected == 25


@pytest.mark.parametrize("seed", [0, 1])
def test_leakage_counts_match_split(seed: int) -> None:
    """Count test reviews whose text occurs in train, straight from the split's ids."""
    from domainfit.config_io import load_config
    from domainfit.data.pipeline import clean_and_split, load_domains

    cfg = load_config({"data": {"source": "amazon-reviews:books"}}, [f"split.seed={seed}"])
    prepared = clean_and_split(load_domains(cfg), cfg)
    ds, fold = prepared.clean["source"], prepared.folds["source"][0]
    train_texts = {ds.inputs[i] for i in fold["train"]}
    expected = sum(ds.inputs[i] in train_texts for i in fold["test"])
    report = domainfit.audit(source="amazon-reviews:books", overrides=[f"split.seed={seed}"])
    assert report.get("books", "leakage_train_test").count == expected > 0
    cleaned = domainfit.audit(
        source="amazon-reviews:books",
        overrides=[f"split.seed={seed}", "clean.drop_duplicates=true"],
    )
    assert cleaned.get("books", "leakage_train_test").count == 0
