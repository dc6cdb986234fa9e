"""``split_leakage`` knows what training used: under ``adapt.protocol: transductive`` the
unlabelled target pool is the test set by design (issue 23: "997 test samples repeat a train
sample (100 %)"), labelled rows repeated in a test still leak, and no fix repeats a setting the
config already has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import domainfit.api as api
from domainfit.diagnose.findings import Finding
from tests.diagnose import planted


def _cfg(source: str, target: str, **adapt: Any) -> dict[str, Any]:
    cfg = planted.config(source, target)
    del cfg["model"]  # the data checks only: leakage needs no features
    cfg["adapt"] = {"method": "dann", **adapt}
    return cfg


def _leaks(result: Any) -> list[Finding]:
    return [f for f in result.findings if f.code == "split_leakage"]


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("domains")
    return (
        planted.write(planted.blobs(seed=0), root / "source.csv"),
        planted.write(planted.blobs(seed=1, shift=0.5), root / "target.csv"),
    )


def test_transductive_pool_is_not_leakage(domains: tuple[str, str]) -> None:
    cfg = _cfg(*domains, protocol="transductive")
    cfg["clean"] = {"drop_duplicates": True}
    result = api.diagnose(cfg)
    assert _leaks(result) == [], [f.title for f in _leaks(result)]
    assert "split_leakage" in result.ran


def test_transductive_labelled_target_repeated_in_test_is_leakage(
    domains: tuple[str, str], tmp_path: Path
) -> None:
    # every target row twice: the labelled few (data.target_labels) have twins in the test set
    target = pd.read_csv(domains[1])
    doubled = planted.write(pd.concat([target, target], ignore_index=True), tmp_path / "t.csv")
    cfg = _cfg(domains[0], doubled, protocol="transductive")
    cfg["data"]["target_labels"] = 40
    (leak,) = _leaks(api.diagnose(cfg))
    assert "labelled target training sample" in leak.title
    assert leak.evidence["count"] == 40 and leak.severity == "medium"  # 40 of 1160 test rows
    assert leak.fix.startswith("clean.drop_duplicates: true")
    assert leak.examples


def test_source_rows_in_the_target_are_leakage_and_drop_duplicates_is_not_the_fix(
    domains: tuple[str, str], tmp_path: Path
) -> None:
    source, target = pd.read_csv(domains[0]), pd.read_csv(domains[1])
    mixed = planted.write(pd.concat([target, source.iloc[:60]]), tmp_path / "mixed.csv")
    cfg = _cfg(domains[0], mixed, protocol="transductive")
    cfg["clean"] = {"drop_duplicates": True}  # already on: it works within a domain only
    (leak,) = _leaks(api.diagnose(cfg))
    assert leak.evidence["pair"] == "source_target" and leak.severity == "high"
    assert "target is the test set" in leak.title
    assert "across domains" in leak.fix and "drop_duplicates: true" not in leak.fix


def test_inductive_pool_overlap_is_low_and_only_when_something_reads_the_pool(
    domains: tuple[str, str], tmp_path: Path
) -> None:
    target = pd.read_csv(domains[1])
    doubled = planted.write(pd.concat([target, target], ignore_index=True), tmp_path / "t.csv")
    found = _leaks(api.diagnose(_cfg(domains[0], doubled, protocol="inductive")))
    (leak,) = [f for f in found if f.evidence["pair"] == "train_test"]
    assert leak.severity == "low" and leak.evidence["unlabelled"] is True
    assert "not their labels" in leak.title
    # without adaptation nothing reads the pool: its repeats in the test set leak nothing
    cfg = _cfg(domains[0], doubled, protocol="inductive")
    cfg["adapt"]["method"] = "none"
    assert [f.evidence["pair"] for f in _leaks(api.diagnose(cfg))] == ["val_test"]


def test_source_leak_fix_skips_what_is_already_set(tmp_path: Path) -> None:
    leaky = planted.write(planted.leak(planted.blobs(), 0.3), tmp_path / "leaky.csv")
    cfg = planted.config(leaky)
    del cfg["model"]
    cfg["split"]["method"] = "random"
    (leak,) = [f for f in _leaks(api.diagnose(cfg)) if f.evidence["pair"] == "train_test"]
    assert "clean.drop_duplicates: true" in leak.fix and "split.method: group" in leak.fix
    from domainfit.config import RunConfig
    from domainfit.diagnose.leakage_findings import _within_fix

    grouped = {**cfg, "split": {**cfg["split"], "method": "group"}}
    fix = _within_fix(RunConfig.model_validate(grouped), "source")
    assert fix.startswith("clean.drop_duplicates: true") and "split.method" not in fix
    both = {**grouped, "clean": {"drop_duplicates": True}}
    fix = _within_fix(RunConfig.model_validate(both), "source")
    assert "does not name what repeats" in fix
