"""Source rows repeated in the target: ``split_leakage`` suggested ``clean.drop_duplicates`` or a
group split, and rerunning with them raised the same finding. ``clean.drop_cross_domain`` drops
the repeats from the source (the target stays whole), and the finding suggests it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import domainfit.api as api
from domainfit.config import RunConfig
from domainfit.config_io import load_config
from domainfit.data.pipeline import clean_and_split, load_domains
from domainfit.diagnose.leakage_findings import _across_fix
from tests.diagnose import planted

SHARED = 60


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("pair")
    source = planted.blobs(seed=0)
    # the target file holds 60 of the source's rows; the first 20 without their label
    shared = source.iloc[:SHARED].copy()
    shared["label"] = shared["label"].astype("Int64")
    shared.loc[shared.index[:20], "label"] = pd.NA
    target = pd.concat([planted.blobs(seed=1, shift=0.5), shared], ignore_index=True)
    return planted.write(source, root / "source.csv"), planted.write(target, root / "target.csv")


def _cfg(pair: tuple[str, str]) -> dict[str, Any]:
    cfg = planted.config(*pair)
    del cfg["model"]  # the data checks only
    cfg["split"]["method"] = "random"  # a partly labelled target cannot be stratified
    return cfg


def _across(result: Any) -> list[Any]:
    return [
        f
        for f in result.findings
        if f.code == "split_leakage" and f.evidence["pair"] == "source_target"
    ]


def test_the_suggested_key_removes_the_leak_and_only_the_shared_rows(
    pair: tuple[str, str],
) -> None:
    (leak,) = _across(api.diagnose(_cfg(pair)))
    assert leak.evidence["count"] == SHARED
    assert leak.fix.startswith("clean.drop_cross_domain: true")
    assert "drop_duplicates: true" not in leak.fix and "split.method" not in leak.fix

    fixed = api.diagnose(_cfg(pair), overrides=["clean.drop_cross_domain=true"])
    assert _across(fixed) == [], [f.title for f in _across(fixed)]

    cfg = load_config(_cfg(pair), ["clean.drop_cross_domain=true"])
    prepared = clean_and_split(load_domains(cfg), cfg)
    (action,) = [a for a in prepared.cleaning if a.action == "drop_cross_domain"]
    assert action.rows == SHARED and action.domain == prepared.raw["source"].domain
    assert len(prepared.clean["source"]) == len(prepared.raw["source"]) - SHARED
    assert len(prepared.clean["target"]) == len(prepared.raw["target"])  # kept whole
    kept = set(prepared.clean["source"].ids)
    assert not kept & set(prepared.raw["source"].ids[:SHARED])  # exactly the shared rows


def test_off_by_default_and_not_suggested_when_on(pair: tuple[str, str]) -> None:
    prepared = clean_and_split(load_domains(load_config(_cfg(pair))), load_config(_cfg(pair)))
    assert len(prepared.clean["source"]) == len(prepared.raw["source"])
    assert not [a for a in prepared.cleaning if a.action == "drop_cross_domain"]
    on = RunConfig.model_validate({**_cfg(pair), "clean": {"drop_cross_domain": True}})
    assert "drop_cross_domain: true" not in _across_fix(on)


def test_the_audit_reports_the_drop(pair: tuple[str, str], tmp_path: Path) -> None:
    report = api.audit(_cfg(pair), overrides=["clean.drop_cross_domain=true"])
    (action,) = [a for a in report.cleaning if a.action == "drop_cross_domain"]
    assert action.rows == SHARED
    (item,) = [i for i in report.items if i.check == "leakage_source_target"]
    assert item.count == 0
