"""Read a run folder (docs/run-folder.md) for the reports. Every reader returns None (or an
empty list) when its file is missing or unreadable, so a report shows what a run has and never
fails on what it lacks."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

# Tests first (they carry the headline), the source domain before the target.
SPLIT_ORDER = ("source.test", "target.test", "source.val", "target.val")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    rows = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:  # a line cut by a crash mid-write: skip it, keep the rest
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def approach_label(
    strategy: str,
    adapt: str | None,
    protocol: str | None,
    *,
    scratch: bool = False,
    random_start: bool = False,
) -> str:
    """Strategy, adaptation and starting weights: "full + mmd (transductive) · from scratch"."""
    parts = [strategy]
    if adapt and adapt != "none":
        parts.append(f"+ {adapt}" + (" (transductive)" if protocol == "transductive" else ""))
    if scratch:
        parts.append("· from scratch")
    elif random_start:  # pretrained weights were meant, and none were found
        parts.append("· random start")
    return " ".join(parts)


def split_sort_key(name: str) -> tuple[int, str]:
    return (SPLIT_ORDER.index(name) if name in SPLIT_ORDER else len(SPLIT_ORDER), name)


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, NaN, text)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def ci_pair(value: Any) -> list[float] | None:
    """A ``[lo, hi]`` interval of finite numbers, or None."""
    if isinstance(value, list) and len(value) == 2 and all(number(c) is not None for c in value):
        return [float(c) for c in value]
    return None


@dataclass
class Predictions:
    """One split's predictions, restricted to labelled rows."""

    ids: np.ndarray  # str
    y: np.ndarray  # class index (classification) or float target (regression)
    out: np.ndarray  # (N, C) probabilities, or (N,) predicted values


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def name(self) -> str:
        return self.path.name

    @cached_property
    def config_text(self) -> str | None:
        try:
            return (self.path / "config.yaml").read_text(encoding="utf-8")
        except OSError:
            return None

    @cached_property
    def config(self) -> dict[str, Any]:
        try:
            cfg = yaml.safe_load(self.config_text or "")
        except yaml.YAMLError:
            return {}
        return cfg if isinstance(cfg, dict) else {}

    @cached_property
    def model_info(self) -> dict[str, Any]:
        info = _json(self.path / "model" / "model.json")
        return info if isinstance(info, dict) else {}

    @cached_property
    def evaluation(self) -> dict[str, Any]:
        ev = _json(self.path / "evaluation.json")
        return ev if isinstance(ev, dict) else {}

    @cached_property
    def final_metrics(self) -> dict[str, Any]:
        m = _json(self.path / "metrics.json")
        return m if isinstance(m, dict) else {}

    @cached_property
    def history(self) -> list[dict[str, Any]]:
        return _jsonl(self.path / "metrics.jsonl")

    @cached_property
    def step_losses(self) -> list[float | None]:
        """The training loss of each optimizer step (None where it was not finite)."""
        return [r.get("loss") for r in _jsonl(self.path / "losses.jsonl") if "step" in r]

    @cached_property
    def lr_history(self) -> list[dict[str, Any]]:
        return [r for r in _jsonl(self.path / "lr.jsonl") if isinstance(r.get("lr"), dict)]

    @cached_property
    def data_summary(self) -> dict[str, Any] | None:
        d = _json(self.path / "data.json")
        return d if isinstance(d, dict) and d else None

    @cached_property
    def cv(self) -> dict[str, Any] | None:
        d = _json(self.path / "cv.json")
        return d if isinstance(d, dict) else None

    @property
    def task(self) -> str:
        return str(self.evaluation.get("task") or self.model_info.get("task") or "")

    @property
    def classes(self) -> list[str]:
        classes = self.evaluation.get("classes") or self.model_info.get("classes") or []
        return [str(c) for c in classes]

    @property
    def headline(self) -> str:
        return str(
            self.evaluation.get("headline") or ("rmse" if self.is_regression else "accuracy")
        )

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def strategy(self) -> str:
        strat = self.config.get("strategy")
        name = strat.get("name") if isinstance(strat, dict) else None
        return str(name or self.model_info.get("strategy") or "n/a")

    @property
    def approach(self) -> str:
        """What sets this run apart from its neighbours in a leaderboard: the strategy alone
        reads "full" for every adaptation method and for a from-scratch run alike."""
        adapt = self.config.get("adapt")
        adapt = adapt if isinstance(adapt, dict) else {}
        model = self.config.get("model")
        scratch = isinstance(model, dict) and model.get("pretrained") is False
        return approach_label(
            self.strategy,
            adapt.get("method"),
            adapt.get("protocol"),
            scratch=scratch,
            random_start=self.final_metrics.get("backbone.pretrained") == 0,
        )

    @property
    def backbone(self) -> str:
        model = self.config.get("model")
        name = model.get("backbone") if isinstance(model, dict) else None
        return str(name or self.model_info.get("backbone") or "n/a")

    @property
    def title(self) -> str:
        return str(self.config.get("name") or self.name)

    @property
    def started(self) -> str | None:
        """When the run began: its config is the first file it writes."""
        try:
            stamp = (self.path / "config.yaml").stat().st_mtime
        except OSError:
            return None
        return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")

    @property
    def seconds(self) -> float | None:
        """Training time: ``seconds`` in metrics.json, else in run.json."""
        run = _json(self.path / "run.json")
        fallback = run.get("seconds") if isinstance(run, dict) else None
        return number(self.final_metrics.get("seconds", fallback))

    @property
    def trained_params(self) -> float | None:
        return number(self.model_info.get("trained_params"))

    @property
    def splits(self) -> dict[str, dict[str, Any]]:
        """Evaluated (labelled) splits, tests first."""
        splits = self.evaluation.get("splits")
        if not isinstance(splits, dict):
            return {}
        items = [(k, v) for k, v in splits.items() if isinstance(v, dict)]
        return dict(sorted(items, key=lambda kv: split_sort_key(kv[0])))

    @property
    def test_split(self) -> str | None:
        """The split a run is ranked on: the target's test when there is one."""
        scored = set(self.splits) or {  # metrics.json keys read "<role>.<part>.<metric>"
            k.rsplit(".", 1)[0] for k in self.final_metrics if k.count(".") >= 2
        }
        for name in ("target.test", "source.test"):
            if name in scored:
                return name
        return next((s for s in sorted(scored) if s.endswith(".test")), None)

    def headline_value(self, split: str | None = None) -> tuple[float | None, list[float] | None]:
        split = split or self.test_split
        s = self.splits.get(split or "", {})
        value = number((s.get("metrics") or {}).get(self.headline))
        if value is None and split:  # runs without evaluation.json still have metrics.json
            value = number(self.final_metrics.get(f"{split}.{self.headline}"))
        return value, ci_pair((s.get("ci") or {}).get(self.headline))

    def examples(self, split: str) -> list[dict[str, Any]]:
        d = _json(self.path / "examples" / f"{split}.json")
        rows = d.get("examples") if isinstance(d, dict) else None
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    def predictions(self, split: str) -> Predictions | None:
        """Labelled rows of ``predictions/<split>.csv``; None when absent or unusable."""
        try:
            df = pd.read_csv(
                self.path / "predictions" / f"{split}.csv",
                dtype={"id": str, "label": str, "prediction": str},
                keep_default_na=False,
            )
        except (OSError, ValueError):
            return None
        if not {"id", "label", "prediction"} <= set(df.columns):
            return None
        df = df[df["label"] != ""]
        if self.is_regression:
            y = pd.to_numeric(df["label"], errors="coerce").to_numpy(float)
            out = pd.to_numeric(df["prediction"], errors="coerce").to_numpy(float)
            keep = np.isfinite(y) & np.isfinite(out)
            return Predictions(df["id"].to_numpy(str)[keep], y[keep], out[keep])
        cols = [f"p:{c}" for c in self.classes]
        if not cols or not set(cols) <= set(df.columns):
            return None
        index = {c: i for i, c in enumerate(self.classes)}
        df = df[df["label"].isin(index)]
        proba = df[cols].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        y = df["label"].map(index).to_numpy(np.int64)
        return Predictions(df["id"].to_numpy(str), y, np.nan_to_num(proba))

    def prediction_splits(self) -> list[str]:
        files = (self.path / "predictions").glob("*.csv")
        return sorted((p.stem for p in files), key=split_sort_key)

    def folds(self) -> list[RunFolder]:
        """The fold runs of a k-fold parent, in fold order."""
        found = [p for p in (self.path / "folds").glob("fold-*") if p.is_dir()]

        def index(p: Path) -> int:
            tail = p.name.removeprefix("fold-")
            return int(tail) if tail.isdigit() else 10**9

        return [RunFolder(p) for p in sorted(found, key=index)]
