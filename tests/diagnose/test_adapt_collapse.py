"""An adaptation whose domain loss outweighs the task is named as the cause of underfitting
(MiniLM, kitchen -> books sentences, MMD at weight 1: training loss stuck at chance)."""

from __future__ import annotations

from domainfit.diagnose.adapt_collapse import explain_collapse
from domainfit.diagnose.findings import Finding

HISTORY = [
    {"epoch": 1, "train.loss": 0.6925, "train.domain_loss": 0.419},
    {"epoch": 2, "train.loss": 0.6932, "train.domain_loss": 0.371},
]


def _findings() -> list[Finding]:
    return [
        Finding("underfitting", "high", "final training loss 0.693 is 100% of chance", {}, "x"),
        Finding("lr_too_low", "medium", "training loss moved -0.4%", {}, "train.lr: 10x"),
        Finding(
            "domain_gap",
            "high",
            "books is easy to tell from kitchen",
            {},
            "keep baselines: [source_only]; if not, raise adapt.weight; try adapt.method: cdan",
        ),
    ]


def test_collapse_blames_the_domain_loss_not_the_lr() -> None:
    cfg = {"adapt": {"method": "mmd", "weight": 1.0}}
    out = explain_collapse(_findings(), cfg, HISTORY)
    codes = [f.code for f in out]
    assert codes == ["underfitting", "domain_gap"]  # lr_too_low dropped
    under = out[0]
    assert "adapt.method: mmd trains (0.419 -> 0.371)" in under.title
    assert under.fix.startswith("adapt.weight: 0.1 (now 1) or adapt.schedule: dann")
    assert under.evidence["domain_loss"] == [0.419, 0.371]
    assert "raise adapt.weight" not in out[1].fix and "try adapt.method: cdan" in out[1].fix


def test_no_adaptation_or_no_underfitting_leaves_findings_alone() -> None:
    found = _findings()
    assert explain_collapse(found, {"adapt": {"method": "none"}}, HISTORY) == found
    assert explain_collapse(found, {}, HISTORY) == found
    rest = found[1:]
    assert explain_collapse(rest, {"adapt": {"method": "mmd"}}, HISTORY) == rest
    no_domain = [{"epoch": 1, "train.loss": 0.69}]
    assert explain_collapse(found, {"adapt": {"method": "mmd"}}, no_domain) == found


def test_a_ramped_run_is_not_told_to_ramp() -> None:
    cfg = {"adapt": {"method": "dann", "weight": 0.5, "schedule": "dann"}}
    under = explain_collapse(_findings(), cfg, HISTORY)[0]
    assert under.fix.startswith("adapt.weight: 0.05 (now 0.5); keep baselines")
