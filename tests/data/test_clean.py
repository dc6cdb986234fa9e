from __future__ import annotations

import numpy as np
import pandas as pd

from domainfit.config import AuditConfig, CleanConfig
from domainfit.data.clean import clean_domain
from domainfit.data.dataset import DomainDataset, LoadProblem


def _tab() -> DomainDataset:
    frame = pd.DataFrame(
        {"a": [1.0, np.nan, 3.0, 3.0, 100.0, 2.0], "c": ["x", "y", None, None, "x", "x"]}
    )
    return DomainDataset(
        "t", "tabular", frame, labels=np.array([0, 1, 0, 0, 1, None], dtype=object)
    )


def test_impute_median_and_most_frequent_counts() -> None:
    ds, log = clean_domain(
        _tab(), CleanConfig(missing="median"), AuditConfig(), labelled_role=False
    )
    assert ds.inputs["a"].tolist() == [1.0, 3.0, 3.0, 3.0, 100.0, 2.0]
    assert ds.inputs["c"].tolist() == ["x", "y", "x", "x", "x", "x"]  # text falls back to the mode
    assert [(a.action, a.rows) for a in log] == [("impute_median", 3)]


def test_drop_missing_labels_only_for_labelled_role() -> None:
    cfg = CleanConfig()
    ds, log = clean_domain(_tab(), cfg, AuditConfig(), labelled_role=True)
    assert len(ds) == 5 and log[0].rows == 1
    ds, log = clean_domain(_tab(), cfg, AuditConfig(), labelled_role=False)
    assert len(ds) == 6 and log == []


def test_drop_missing_then_duplicates_keeps_first() -> None:
    cfg = CleanConfig(missing="drop", drop_duplicates=True, drop_missing_labels=False)
    ds, log = clean_domain(_tab(), cfg, AuditConfig(), labelled_role=True)
    assert ds.ids == ["row 0", "row 4", "row 5"]
    assert [(a.action, a.rows) for a in log] == [("drop_missing", 3), ("drop_duplicates", 0)]


def test_clip_outliers_to_fences() -> None:
    x = np.array([[1.0], [2.0], [3.0], [2.0], [2.5], [1000.0]])
    ds = DomainDataset("f", "features", x)
    out, log = clean_domain(ds, CleanConfig(clip_outliers=True), AuditConfig(), labelled_role=False)
    q1, q3 = np.percentile(x, [25, 75])
    assert out.inputs.max() == q3 + 3 * (q3 - q1)
    assert log[-1].action == "clip_outliers" and log[-1].rows == 1


def test_drop_corrupt_reindexes() -> None:
    ds = DomainDataset(
        "i",
        "image",
        ["a.png", "b.png", "c.png"],
        labels=np.array(["x", "y", "x"], dtype=object),
        problems=[LoadProblem(1, "b.png", "truncated PNG")],
    )
    out, log = clean_domain(ds, CleanConfig(drop_corrupt=True), AuditConfig(), labelled_role=False)
    assert out.inputs == ["a.png", "c.png"] and out.problems == []
    assert log[0].rows == 1
