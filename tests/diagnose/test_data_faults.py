"""``diagnose`` on planted data faults: each raises its code (high or medium); the clean twin
raises none of them and nothing of high severity."""

from __future__ import annotations

from pathlib import Path

import pytest

import domainfit.api as api
from tests.diagnose import planted

SERIOUS = ("high", "medium")


@pytest.fixture(scope="module")
def clean_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("clean")
    return (
        planted.write(planted.blobs(seed=0), root / "source.csv"),
        planted.write(planted.blobs(seed=1), root / "target.csv"),
    )


def test_clean_data_has_no_serious_finding(clean_pair: tuple[str, str]) -> None:
    result = api.diagnose(planted.config(*clean_pair))
    assert not result.codes(*SERIOUS), [f.title for f in result.findings]
    assert {"label_noise", "label_shift", "domain_gap", "split_leakage"} <= set(result.ran)


def test_flipped_labels_raise_label_noise(tmp_path: Path, clean_pair: tuple[str, str]) -> None:
    noisy = planted.write(planted.flip_labels(planted.blobs(), 0.2), tmp_path / "noisy.csv")
    result = api.diagnose(planted.config(noisy))
    assert "label_noise" in result.codes(*SERIOUS)
    finding = next(f for f in result.findings if f.code == "label_noise")
    assert 0.12 <= finding.evidence["estimated_noise_rate"] <= 0.3
    assert finding.examples  # the rows to review


def test_repeated_rows_raise_split_leakage(tmp_path: Path) -> None:
    leaky = planted.write(planted.leak(planted.blobs(), 0.3), tmp_path / "leaky.csv")
    result = api.diagnose(planted.config(leaky))
    assert "split_leakage" in result.codes(*SERIOUS)
    assert "duplicates" in result.codes(*SERIOUS)
    # with the suggested fix applied the leak is gone
    fixed = api.diagnose(planted.config(leaky), overrides=["clean.drop_duplicates=true"])
    assert "split_leakage" not in fixed.codes()


def test_covariate_shift_raises_domain_gap(tmp_path: Path, clean_pair: tuple[str, str]) -> None:
    shifted = planted.write(planted.blobs(seed=1, shift=2.0), tmp_path / "shifted.csv")
    result = api.diagnose(planted.config(clean_pair[0], shifted))
    assert "domain_gap" in result.codes(*SERIOUS)
    gap = next(f for f in result.findings if f.code == "domain_gap").evidence
    assert gap["proxy_a_distance"] > gap["proxy_a_distance_within_source"]


def test_class_priors_raise_label_shift(tmp_path: Path, clean_pair: tuple[str, str]) -> None:
    skewed = planted.write(planted.blobs(seed=1, priors=(0.85, 0.15)), tmp_path / "skew.csv")
    result = api.diagnose(planted.config(clean_pair[0], skewed))
    assert "label_shift" in result.codes(*SERIOUS)


def test_label_shift_is_estimated_without_target_labels(
    tmp_path: Path, clean_pair: tuple[str, str]
) -> None:
    skewed = planted.blobs(seed=1, priors=(0.85, 0.15)).drop(columns="label")
    path = planted.write(skewed, tmp_path / "unlabelled.csv")
    result = api.diagnose(planted.config(clean_pair[0], path))
    finding = next(f for f in result.findings if f.code == "label_shift")
    assert "target_priors_observed" not in finding.evidence
    assert abs(finding.evidence["target_priors_estimated"][1] - 0.15) < 0.07


def test_missing_values_and_imbalance_and_size(tmp_path: Path) -> None:
    holes = planted.write(planted.with_missing(planted.blobs(), 0.2), tmp_path / "holes.csv")
    assert "missing_values" in api.diagnose(planted.config(holes)).codes(*SERIOUS)
    rare = planted.write(planted.blobs(priors=(0.96, 0.04)), tmp_path / "rare.csv")
    assert "class_imbalance" in api.diagnose(planted.config(rare)).codes(*SERIOUS)
    tiny = planted.write(planted.blobs(n=40), tmp_path / "tiny.csv")
    assert "too_few_samples" in api.diagnose(planted.config(tiny)).codes(*SERIOUS)


def test_findings_are_ranked_worst_first(tmp_path: Path) -> None:
    both = planted.leak(planted.flip_labels(planted.blobs(), 0.2), 0.3)
    result = api.diagnose(planted.config(planted.write(both, tmp_path / "both.csv")))
    order = [f.severity for f in result.findings]
    assert order == sorted(order, key={"high": 0, "medium": 1, "low": 2}.__getitem__)
    assert all(f.fix and f.evidence for f in result.findings)
