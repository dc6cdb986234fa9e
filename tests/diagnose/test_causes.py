"""Symptoms said to be symptoms, causes first; label noise at chance; small shifts found; label
shift not estimated from a classifier that cannot see the classes."""

from __future__ import annotations

import numpy as np

from domainfit.diagnose.causes import link_causes
from domainfit.diagnose.feature_findings import Labelled, domain_gap, label_shift
from domainfit.diagnose.findings import Finding, ranked
from domainfit.diagnose.label_noise import assess_label_noise


def _finding(code: str, sev: str, domain: str, score: float, **evidence: object) -> Finding:
    return Finding(code, sev, f"{code} title", dict(evidence), f"{code} fix", score, domain)  # type: ignore[arg-type]


def test_leakage_from_duplicates_puts_the_duplicates_first() -> None:
    dup = _finding("duplicates", "low", "shop", 0.05, count=69)
    leak = _finding("split_leakage", "high", "shop", 0.09, pair="train_test")
    across = _finding("split_leakage", "medium", "shop", 0.02, pair="source_test")
    order = ranked(link_causes([leak, across, dup]))
    assert [f.code for f in order][:2] == ["duplicates", "split_leakage"]
    assert dup.severity == "high" and dup.evidence["severity_before"] == "low"
    assert leak.evidence["symptom_of"] == "duplicates" and "symptom of duplicates" in leak.title
    assert "symptom_of" not in across.evidence  # repeats across files are not within-file ones


def _noise_and_cut(cut_ids: list[str], suspects: list[str]) -> tuple[Finding, Finding]:
    checked = [f"row {i}" for i in range(1000)]
    cut = _finding(
        "input_mismatch", "medium", "kitchen", 0.3, _checked_ids=checked, _truncated_ids=cut_ids
    )
    noise = _finding("label_noise", "high", "kitchen", 0.2)
    noise.examples = suspects
    return cut, noise


def test_noise_among_cut_texts_is_called_a_symptom_of_the_truncation() -> None:
    cut_ids = [f"row {i}" for i in range(300)]  # 30% of texts cut
    cut, noise = _noise_and_cut(cut_ids, [f"row {i}" for i in range(0, 300, 5)])  # all cut
    order = ranked(link_causes([noise, cut]))
    assert [f.code for f in order] == ["input_mismatch", "label_noise"]
    assert noise.evidence["symptom_of"] == "input_mismatch"
    assert noise.fix.startswith("100% of the suspects are texts cut")
    assert "_truncated_ids" not in cut.evidence  # working lists do not reach diagnosis.json


def test_noise_spread_like_the_cut_texts_is_not_blamed_on_them() -> None:
    cut_ids = [f"row {i}" for i in range(0, 1000, 3)]  # a third of texts cut
    cut, noise = _noise_and_cut(cut_ids, [f"row {i}" for i in range(0, 1000, 10)])
    link_causes([noise, cut])
    assert "symptom_of" not in noise.evidence
    assert "not explained by the truncation" in noise.title


def test_estimated_label_shift_under_a_domain_gap_drops_a_level() -> None:
    gap = _finding("domain_gap", "medium", "books", 1.2)
    shift = _finding("label_shift", "high", "books", 0.3)
    observed = _finding("label_shift", "high", "books", 0.3, target_priors_observed=[0.5, 0.5])
    link_causes([shift, gap])
    link_causes([observed, gap])
    assert shift.severity == "medium" and shift.evidence["symptom_of"] == "domain_gap"
    assert observed.severity == "high" and "symptom_of" not in observed.evidence


def _blobs(n: int, seed: int, sep: float = 1.5, prior: float = 0.5) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prior).astype(int)
    x = rng.normal(size=(n, 8))
    x[:, :2] += np.where(y[:, None] == 1, sep, -sep)
    return x, y


def test_labels_at_chance_give_a_finding_without_a_noise_rate() -> None:
    x, _ = _blobs(600, 0)
    y = np.random.default_rng(1).integers(0, 2, 600)  # labels unrelated to the inputs
    ids = [str(i) for i in range(600)]
    (f,), why = assess_label_noise(Labelled("shop", x, y, ids))
    assert why is None and f.severity == "high"
    assert f.evidence["estimated_noise_rate"] is None and "cannot be predicted" in f.title


def test_a_quarter_of_the_target_from_elsewhere_is_a_small_shift() -> None:
    xs, ys = _blobs(1000, 0)
    xt, yt = _blobs(600, 1)
    xt[:150, 2:] += 1.0  # a quarter of the target moved in six features
    src = Labelled("a", xs, ys, [str(i) for i in range(1000)])
    same = Labelled("b", _blobs(600, 2)[0], yt, [str(i) for i in range(600)])
    part = Labelled("b", xt, yt, [str(i) for i in range(600)])
    assert domain_gap(src, same) == []
    (f,) = domain_gap(src, part)
    assert f.severity == "low" and f.evidence["test_pvalue"] < 0.001


def test_label_shift_is_not_estimated_from_a_classifier_at_chance() -> None:
    rng = np.random.default_rng(0)
    xs, xt = rng.normal(size=(800, 8)), rng.normal(size=(500, 8))
    ys = rng.integers(0, 2, 800)
    yt = np.full(500, -1)
    src = Labelled("a", xs, ys, [str(i) for i in range(800)])
    tgt = Labelled("b", xt, yt, [str(i) for i in range(500)])
    assert label_shift(src, tgt, 2) == []


def test_estimated_label_shift_is_found_by_its_predictions() -> None:
    xs, ys = _blobs(1000, 0)
    xt, _ = _blobs(500, 1, prior=0.8)
    src = Labelled("a", xs, ys, [str(i) for i in range(1000)])
    tgt = Labelled("b", xt, np.full(500, -1), [str(i) for i in range(500)])
    (f,) = label_shift(src, tgt, 2)
    assert 0.2 <= f.evidence["total_variation"] <= 0.4


def test_noise_that_falls_when_texts_are_read_longer_is_the_truncations() -> None:
    cut_ids = [f"row {i}" for i in range(900)]  # nearly every text cut: enrichment cannot tell
    for before, after, expect in ((0.3, 0.12, "symptom"), (0.23, 0.17, "26%"), (0.2, 0.19, "not")):
        cut, noise = _noise_and_cut(cut_ids, [f"row {i}" for i in range(0, 900, 9)])
        noise.evidence["estimated_noise_rate"] = before
        noise.evidence["_noise_longer"] = {
            "max_length": 238,
            "estimated_noise_rate": after,
            "before": before,
            "falls": after <= before * 2 / 3,
        }
        link_causes([noise, cut])
        assert noise.evidence["noise_at_longer_inputs"]["max_length"] == 238
        if expect == "symptom":
            assert noise.evidence["symptom_of"] == "input_mismatch"
            assert "read to 238 tokens" in noise.fix
        elif expect == "not":
            assert "not explained by the truncation" in noise.title
        else:
            assert "26% of it the truncation's" in noise.title


def test_labels_unpredictable_from_cut_texts_blame_the_cut_first() -> None:
    cut, noise = _noise_and_cut([f"row {i}" for i in range(700)], [])
    cut.evidence["truncated_share"] = 0.7
    noise.evidence["estimated_noise_rate"] = None  # the at-chance finding
    order = ranked(link_causes([noise, cut]))
    assert order[0] is cut and noise.evidence["symptom_of"] == "input_mismatch"
    assert noise.fix.startswith("70% of the texts are cut")


def test_a_small_shift_next_to_a_label_shift_is_the_label_shifts_symptom() -> None:
    gap = _finding("domain_gap", "low", "books", 0.03, test_pvalue=1e-4)
    shift = _finding("label_shift", "medium", "books", 0.2)
    order = ranked(link_causes([gap, shift]))
    assert order[0] is shift and shift.severity == "medium"
    assert gap.evidence["symptom_of"] == "label_shift"
