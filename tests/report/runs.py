"""Realistic run folders written straight from the schema in docs/run-folder.md, with numpy
data: reports are tested without training anything."""

from __future__ import annotations

import base64
import io
import json
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from PIL import Image

from domainfit.evaluate.bootstrap import accuracy, bootstrap_ci
from domainfit.evaluate.metrics import (
    classification_metrics,
    confusion,
    most_confused,
    per_class,
    regression_metrics,
)

FIGURE = re.compile(r'<figure class="plot[^"]*" data-plot="([^"]+)">(.*?)</figure>', re.S)
GROUPS = ["embeddings", "layer.0", "layer.1", "layer.2", "head"]
HOSTILE = 'great <script>alert("x")</script> pan, see https://example.com/buy & "save"'


def figures(html: str) -> dict[str, str]:
    """A report's figures: data-plot name -> the figure's inner HTML."""
    return dict(FIGURE.findall(html))


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def _thumbnail(rng: np.random.Generator) -> str:
    img = Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _history(task: str, epochs: int, skill: float) -> list[dict[str, float]]:
    rows = []
    for e in range(epochs):
        row = {
            "epoch": float(e),
            "step": float(30 * (e + 1)),
            "train.loss": 0.9 * 0.7**e,
            "val.loss": 0.8 * 0.8**e + 0.2 / skill,
        }
        if task == "regression":
            row |= {"val.mae": 0.9 * 0.85**e / skill, "val.rmse": 1.1 * 0.85**e / skill}
        else:
            row["val.accuracy"] = 0.5 + 0.03 * skill * e
        rows.append(row)
    return rows


def _lr_rows(steps: int = 60) -> list[dict[str, Any]]:
    """Gradual unfreezing: deeper groups start earlier; frozen groups have lr 0."""
    rows = []
    for step in range(0, steps, 3):
        lr = {}
        for depth, g in enumerate(GROUPS):
            start = (len(GROUPS) - 1 - depth) * 10
            lr[g] = 0.0 if step < start else 1e-3 * 0.5 ** (len(GROUPS) - 1 - depth)
        rows.append({"step": step, "epoch": step / 30, "lr": lr})
    return rows


def _truth(split: str) -> np.random.Generator:
    """Labels depend on the split only: every run sees the same samples."""
    return np.random.default_rng(zlib.crc32(split.encode()))


def _classification_split(
    rng: np.random.Generator, split: str, ids: list[str], classes: list[str], skill: float
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    k = len(classes)
    weights = np.linspace(2.0, 1.0, k)  # some imbalance
    y = _truth(split).choice(k, size=len(ids), p=weights / weights.sum())
    logits = skill * np.eye(k)[y] + rng.normal(size=(len(ids), k))
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    df = pd.DataFrame(
        {
            "id": ids,
            "label": [classes[i] for i in y],
            "prediction": [classes[i] for i in proba.argmax(1)],
            "loss": -np.log(proba[np.arange(len(y)), y]),
        }
    )
    for i, c in enumerate(classes):
        df[f"p:{c}"] = proba[:, i]
    return df, y, proba


def _classification_eval(y: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict[str, Any]:
    m = classification_metrics(y, proba)
    cm = confusion(y, proba)
    return {
        "n": len(y),
        "metrics": m,
        "ci": {"accuracy": list(bootstrap_ci(accuracy, y, proba, rounds=100))},
        "per_class": per_class(y, proba, classes),
        "confusion": cm.tolist(),
        "most_confused": most_confused(cm, classes),
    }


def _regression_split(
    rng: np.random.Generator, split: str, ids: list[str], skill: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    y = _truth(split).normal(3.0, 1.0, len(ids))
    pred = y + rng.normal(0, 1.0 / skill, len(ids))
    df = pd.DataFrame({"id": ids, "label": y, "prediction": pred, "loss": (y - pred) ** 2})
    m = regression_metrics(y, pred)
    spread = m["rmse"] * 0.1
    ev = {"n": len(y), "metrics": m, "ci": {"rmse": [m["rmse"] - spread, m["rmse"] + spread]}}
    return df, ev


def _examples(df: pd.DataFrame, split: str, kind: str, rng: np.random.Generator) -> dict:
    rows = []
    for _, r in df.nlargest(5, "loss").iterrows():
        ex = {"id": r["id"], "label": r["label"], "prediction": r["prediction"]}
        ex["loss"] = float(r["loss"])
        if "p:" in ",".join(df.columns):
            ex["confidence"] = float(r.filter(like="p:").max())
        if kind == "image":
            ex["image"] = _thumbnail(rng)
        elif kind == "text":
            ex["text"] = HOSTILE if not rows else f"review {r['id']} about a kettle"
        rows.append(ex)
    return {"split": split, "kind": kind, "examples": rows}


def make_run(
    path: Path,
    task: str = "binary",
    *,
    n_classes: int = 3,
    seed: int = 0,
    skill: float = 2.0,
    n: int = 150,
    kind: str = "text",
    target: bool = False,
    lr: bool = True,
    examples: bool = True,
    strategy: str = "full",
    val: bool = True,
    adapt: str | None = None,
    pretrained: bool = True,
) -> Path:
    """A finished run folder. Ids depend only on the split, so runs made with different seeds
    share their test ids and can be paired."""
    rng = np.random.default_rng(seed)
    classes = ["negative", "positive"] if task == "binary" else [f"c{i}" for i in range(n_classes)]
    classes = [] if task == "regression" else classes
    splits = ["source.val"] * val + ["source.test"] + ["target.test"] * target
    evaluation: dict[str, Any] = {
        "task": task,
        "classes": classes,
        "headline": "rmse" if task == "regression" else "accuracy",
        "splits": {},
    }
    flat: dict[str, float] = {"seconds": 12.5 + seed}
    for split in splits:
        ids = [f"{split.split('.')[0][0]}{i}" for i in range(n)]
        if task == "regression":
            df, ev = _regression_split(rng, split, ids, skill)
        else:
            df, y, proba = _classification_split(rng, split, ids, classes, skill)
            ev = _classification_eval(y, proba, classes)
        evaluation["splits"][split] = ev
        flat |= {f"{split}.{k}": v for k, v in ev["metrics"].items()}
        (path / "predictions").mkdir(parents=True, exist_ok=True)
        df.to_csv(path / "predictions" / f"{split}.csv", index=False)
        if examples:
            _write(path / "examples" / f"{split}.json", _examples(df, split, kind, rng))
    if target:  # unlabelled target validation data: predictions only, no evaluation
        df = pd.read_csv(path / "predictions" / "target.test.csv").head(20)
        df["label"], df["loss"] = "", ""
        df.to_csv(path / "predictions" / "target.val.csv", index=False)
    config = {
        "name": f"run-{task}",
        "model": {"backbone": "minilm"} | ({} if pretrained else {"pretrained": False}),
        "strategy": {"name": strategy},
    }
    if adapt:
        config["adapt"] = {"method": adapt, "protocol": "transductive"}
    (path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    history = _history(task, 5, skill)
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history))
    if lr:
        (path / "lr.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _lr_rows()))
    _write(path / "metrics.json", flat)
    _write(path / "evaluation.json", evaluation)
    model = {"classes": classes, "task": task, "backbone": "minilm", "strategy": strategy}
    _write(path / "model" / "model.json", model | {"trained_params": 1234567 + seed})
    _write(path / "data.json", _data_summary(classes, n))
    return path


def _data_summary(classes: list[str], n: int) -> dict[str, Any]:
    counts = {c: n // (i + 1) for i, c in enumerate(classes)}
    source = {"domain": "kitchen", "kind": "text", "n_raw": 3 * n + 7, "n_clean": 3 * n}
    source |= {"splits": {"train": n, "val": n, "test": n}, "folds": 1}
    if classes:
        source["class_counts"] = {"train": counts, "val": counts, "test": counts}
    return {
        "task": "classification" if classes else "regression",
        "roles": {"source": source},
        "cleaning": [
            {"domain": "kitchen", "action": "drop_duplicates", "rows": 7, "detail": "kept first"}
        ],
    }


def make_kfold(path: Path, k: int = 3, task: str = "binary") -> Path:
    """A k-fold parent: cv.json plus a complete run folder per fold."""
    folds = []
    for i in range(k):
        fold = make_run(path / "folds" / f"fold-{i}", task, seed=i, lr=False, examples=False)
        ev = json.loads((fold / "evaluation.json").read_text())
        metrics = {f"source.test.{k}": v for k, v in ev["splits"]["source.test"]["metrics"].items()}
        folds.append({"fold": i, "dir": f"folds/fold-{i}", "metrics": metrics})
    if k:
        (path / "folds" / "fold-0" / "report.html").write_text("<html></html>")
    _write(path / "cv.json", {"k": k, "folds": folds})
    (path / "config.yaml").write_text("name: cv-run\nsplit:\n  method: kfold\n")
    return path
