"""How numbers read in reports, the same in HTML and markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

NA = "n/a"


def num(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return NA if value is None or isinstance(value, float) else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}" if abs(value) < 1e5 else f"{value:,.0f}"


def count(value: Any) -> str:
    """Whole numbers with thousands separators (parameter counts, sample counts)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return f"{round(value):,}"
    return NA


def seconds(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return NA
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def interval(ci: Sequence[float] | None, digits: int = 3) -> str:
    """A 95% interval as ``[lo, hi]``: bootstrap intervals are rarely symmetric, so a ± would
    misstate one side."""
    if not ci or len(ci) != 2:
        return ""
    return f"[{num(ci[0], digits)}, {num(ci[1], digits)}]"


def with_ci(value: Any, ci: Sequence[float] | None, digits: int = 3) -> str:
    text = num(value, digits)
    return f"{text} {interval(ci, digits)}".strip() if text != NA else NA


def pvalue(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return NA
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def cell(value: Any) -> str:
    """A table cell of unknown type: numbers formatted, missing values blank."""
    if value is None:
        return ""
    return (
        num(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
    )
