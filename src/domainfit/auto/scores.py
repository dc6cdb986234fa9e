"""A finished step's numbers, read from its run folder, and how steps are compared.

Steps are chosen by the source validation score, or, where adaptation competes, by a label-free
score of the predictions on the target's validation part (its pool in the transductive
protocol): target labels are read for the leaderboard only, never to choose."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from domainfit.adapt.validators import validator_score


def headline(classification: bool) -> str:
    return "accuracy" if classification else "rmse"


def read_scores(run_dir: Path, classification: bool, select: str) -> dict[str, Any]:
    """Source validation score, test scores with their 95% intervals, the label-free score,
    seconds, and whether ``train.max_seconds`` ended training early."""
    metric = headline(classification)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    run = json.loads((run_dir / "run.json").read_text())
    splits = json.loads((run_dir / "evaluation.json").read_text()).get("splits", {})
    out: dict[str, Any] = {
        "metric": metric,
        "source.val": _finite(metrics.get(f"source.val.{metric}")),
        "seconds": float(run.get("seconds", 0.0)),
        "timed_out": run.get("stopped") == "train.max_seconds",
    }
    for split in ("source.test", "target.test"):
        if split in splits:
            out[split] = _finite(splits[split]["metrics"].get(metric))
            out[f"{split}.ci"] = splits[split].get("ci", {}).get(metric)
    if classification:
        out[select] = label_free(run_dir, select)
    return out


def label_free(run_dir: Path, select: str) -> float | None:
    """``select`` (im or snd) of the class probabilities predicted for the target: its val
    part, else its test part (the transductive pool). The label column is never read."""
    for split in ("target.val", "target.test"):
        path = run_dir / "predictions" / f"{split}.csv"
        if path.is_file():
            frame = pd.read_csv(path)
            probs = frame[[c for c in frame.columns if c.startswith("p:")]].to_numpy(float)
            if probs.shape[0] >= 2 and probs.shape[1] >= 2:
                return float(validator_score(select, probs))
    return None


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def better(a: float | None, b: float | None, higher: bool) -> bool:
    """Whether ``a`` beats ``b`` (a missing score never wins; ties keep the earlier step)."""
    if a is None:
        return False
    if b is None:
        return True
    return a > b if higher else a < b


def best_of(rows: list[dict[str, Any]], key: str, higher: bool) -> dict[str, Any] | None:
    best: dict[str, Any] | None = None
    for row in rows:
        if better(
            row["scores"].get(key), None if best is None else best["scores"].get(key), higher
        ):
            best = row
    return best
