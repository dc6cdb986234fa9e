"""Findings: what a check found, how bad it is, the numbers behind it, and what to change.

Codes are stable (scripts and tests key on them); the text around them may improve. Findings
rank by severity, then by ``score`` (how far past its threshold the evidence lies), so the
first line a user reads is the most likely cause.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["high", "medium", "low"]
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}

# code -> (area, what it means). The one list of codes; checks may only emit these.
CODES: dict[str, tuple[str, str]] = {
    "duplicates": ("data", "repeated samples inside a domain"),
    "split_leakage": ("data", "evaluation samples that repeat training samples"),
    "label_noise": ("data", "labels the features confidently contradict"),
    "class_imbalance": ("data", "some classes far rarer than others"),
    "label_shift": ("data", "class priors differ between source and target"),
    "missing_values": ("data", "missing inputs"),
    "too_few_samples": ("data", "too little labelled data for the model or the evaluation"),
    "domain_gap": ("domain", "source and target features are easy to tell apart"),
    "input_mismatch": ("domain", "inputs unlike what the backbone was pretrained on"),
    "overfitting": ("training", "validation loss rises while training loss falls"),
    "underfitting": ("training", "the model does not fit even its training data"),
    "lr_too_high": ("training", "divergence or loss spikes"),
    "lr_too_low": ("training", "the loss hardly moves"),
    "frozen_too_deep": ("training", "too few layers train for the domain's gap"),
    "bn_stats_drift": ("training", "BatchNorm statistics of frozen layers moved"),
    "ineffective_lr": ("training", "learning rates differ from the declared plan"),
    "negative_transfer": ("training", "the adapted model is no better than a baseline"),
    "nondeterministic_resume": ("training", "a resumed run differs from the uninterrupted one"),
    "unreliable_validator": ("training", "the label-free validator that kept the model fails here"),
    "random_init": ("training", "random backbone weights where pretrained ones were meant"),
}


@dataclass
class Finding:
    code: str
    severity: Severity
    title: str
    evidence: dict[str, Any]
    fix: str
    score: float = 0.0  # ranks findings of one severity: larger is worse
    domain: str | None = None
    examples: list[str] = field(default_factory=list)
    # rows a user reviews one by one (same keys in each); console and report show them as a table
    detail: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}; known: {', '.join(CODES)}")
        if self.severity not in SEVERITY_ORDER:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def area(self) -> str:
        return CODES[self.code][0]

    def to_dict(self) -> dict[str, Any]:
        return {"area": self.area, **asdict(self)}


def ranked(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], -f.score, f.code))


def grade(value: float, medium: float, high: float, low: float | None = None) -> Severity | None:
    """The severity of ``value`` against increasing thresholds; None below all of them."""
    if value >= high:
        return "high"
    if value >= medium:
        return "medium"
    if low is not None and value >= low:
        return "low"
    return None
