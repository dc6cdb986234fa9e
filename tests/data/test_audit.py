"""Exact counts on planted problems."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import domainfit.api as api
from domainfit.data.dataset import DomainDataset


def _cfg(path: Path, *extra: str) -> tuple[dict, list[str]]:
    return {"data": {"source": {"spec": str(path), "text": "text", "split": "part"}}}, list(extra)


def test_planted_text_counts(planted_csv: Path) -> None:
    cfg, ov = _cfg(planted_csv)
    report = api.audit(cfg, overrides=ov)
    d = "planted"
    assert report.get(d, "exact_duplicates").count == 4
    assert report.get(d, "exact_duplicates").examples[0] == "row 2 = row 15 = row 16"
    assert report.get(d, "near_duplicates").count == 1
    assert report.get(d, "near_duplicates").examples == ["row 4 = row 17"]
    assert report.get(d, "missing_labels").count == 1
    assert report.get(d, "missing_labels").examples == ["row 19"]
    assert report.get(d, "missing_values").count == 1
    assert report.get(d, "conflicting_labels").count == 0
    # row 19 (missing label) is dropped before splitting, row 20 copies train row 7
    assert report.get(d, "leakage_train_test").count == 1
    assert report.get(d, "leakage_train_test").examples == ["test row 20 = train row 7"]
    assert report.get(d, "leakage_train_val").count == 0
    assert report.splits[d] == [{"train": 17, "val": 1, "test": 1}]
    assert [(a.action, a.rows) for a in report.cleaning] == [("drop_missing_labels", 1)]


def test_cleaning_removes_the_leak(planted_csv: Path) -> None:
    cfg, ov = _cfg(planted_csv, "clean.drop_duplicates=true", "clean.drop_near_duplicates=true")
    report = api.audit(cfg, overrides=ov)
    assert report.get("planted", "leakage_train_test").count == 0
    actions = {a.action: a.rows for a in report.cleaning}
    assert actions == {"drop_missing_labels": 1, "drop_duplicates": 3, "drop_near_duplicates": 1}
    # the raw audit is unchanged by cleaning
    assert report.get("planted", "exact_duplicates").count == 4


def test_tabular_counts(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 40
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n).round(6),
            "b": rng.normal(size=n).round(6),
            "const": 1.0,
            "label": ["x", "y"] * (n // 2),
            "part": ["train"] * 30 + ["test"] * 10,
        }
    )
    df.loc[5, "a"] = 100.0  # an outlier
    df.loc[[7, 8, 9], "b"] = np.nan  # 3 missing cells
    df.loc[30, ["a", "b", "label"]] = df.loc[0, ["a", "b", "label"]].to_numpy()  # test copies train
    df.loc[31, ["a", "b"]] = df.loc[1, ["a", "b"]].to_numpy() + 1e-5  # near copy
    df.loc[31, "label"] = df.loc[1, "label"]
    df.loc[2, ["a", "b", "label"]] = df.loc[3, ["a", "b", "label"]].to_numpy()
    path = tmp_path / "tab.csv"
    df.to_csv(path, index=False)
    report = api.audit({"data": {"source": {"spec": str(path), "split": "part"}}})
    d = "tab"
    assert report.get(d, "missing_values").count == 3
    assert report.get(d, "missing_values").data["per_column"] == {"b": 3}
    assert report.get(d, "constant_columns").data["columns"] == ["const"]
    assert report.get(d, "outliers").count >= 1 and "row 6" in report.get(d, "outliers").examples
    assert report.get(d, "exact_duplicates").count == 2  # rows 3/4 and 1/31
    assert report.get(d, "near_duplicates").count == 1  # row 32 ~ row 2
    assert report.get(d, "leakage_train_test").count == 1
    assert report.get(d, "near_leakage_train_test").count == 1


def test_cross_domain_overlap_and_unseen_labels() -> None:
    src = DomainDataset(
        "s", "text", ["good", "bad", "fine", "ok"] * 5, labels=np.array([1, 0, 1, 0] * 5)
    )
    tgt = DomainDataset(
        "t", "text", ["GOOD!", "bad", "new one", "another"], labels=np.array([1, 0, 2, 2])
    )
    report = api.audit(source=src, target=tgt, overrides=["split.method=random"])
    assert report.get("s→t", "leakage_source_target").count == 1
    assert report.get("s→t", "near_leakage_source_target").count == 1
    item = report.get("s→t", "labels_only_in_target")
    assert item.count == 1 and item.detail == "2"


def test_in_memory_pandas_and_numpy() -> None:
    df = pd.DataFrame({"f": [1.0, 2.0, 2.0, 3.0] * 5, "y": [0, 1, 1, 0] * 5})
    report = api.audit(source=df, label="y")
    assert report.get("source", "exact_duplicates").count == 20 - 3
    x = np.vstack([np.eye(3)] * 4)
    report = api.audit(source=(x, np.array([0, 1, 2] * 4)))
    assert report.get("source", "exact_duplicates").count == 9
    assert report.domains[0].kind == "features"
