"""Writes a finished run's evaluation files: predictions/<split>.csv, evaluation.json,
examples/<split>.json and data.json (the formats are in docs/run-folder.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from domainfit.data.dataset import DomainDataset
from domainfit.data.loaders import EncodedSet
from domainfit.data.pipeline import PreparedData
from domainfit.evaluate.outputs import model_outputs
from domainfit.evaluate.split_report import (
    example_records,
    headline,
    highest_loss,
    predictions_frame,
    split_evaluation,
)
from domainfit.io_utils import write_json_atomic, write_text_atomic


def evaluate_run(
    run_dir: Path,
    model: torch.nn.Module,
    sets: dict[str, EncodedSet],
    datasets: dict[str, DomainDataset],
    task: str,
    classes: list[str],
    *,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """Predict every val/test split, write the files, and return the flat metrics
    (``source.test.accuracy``, ``source.test.loss``, ...) of the labelled ones."""
    flat: dict[str, float] = {}
    splits: dict[str, Any] = {}
    for name, data in sets.items():
        if name.endswith(".train"):
            continue
        ds = datasets[name]
        out = model_outputs(model, data, task, batch_size, device, f"evaluating {name}")
        y = data.labels
        frame = predictions_frame(ds.ids, y, out, task, classes)
        write_text_atomic(run_dir / "predictions" / f"{name}.csv", frame.to_csv(index=False))
        if y is None:
            continue  # unlabelled: predictions only
        result = split_evaluation(np.asarray(y), out, task, classes)
        splits[name] = result
        flat[f"{name}.loss"] = float(frame["loss"].mean())
        flat |= {f"{name}.{k}": v for k, v in result["metrics"].items()}
        worst = highest_loss(frame)
        records = example_records(worst, list(worst.index), ds.inputs, ds.kind, task)
        doc = {"split": name, "kind": ds.kind, "examples": records}
        write_json_atomic(run_dir / "examples" / f"{name}.json", doc)
    write_json_atomic(
        run_dir / "evaluation.json",
        {"task": task, "classes": classes, "headline": headline(task), "splits": splits},
    )
    return flat


def split_datasets(prepared: PreparedData) -> dict[str, DomainDataset]:
    """``<role>.<part>`` -> that part of the cleaned data, in the order the sets encode it."""
    out = {}
    for role, folds in prepared.folds.items():
        for part, idx in folds[0].items():
            if len(idx):
                out[f"{role}.{part}"] = prepared.clean[role].subset(idx)
    return out


def data_summary(prepared: PreparedData) -> dict[str, Any]:
    roles: dict[str, Any] = {}
    for role, ds in prepared.clean.items():
        fold = prepared.folds[role][0]
        entry: dict[str, Any] = {
            "domain": ds.domain,
            "kind": ds.kind,
            "n_raw": len(prepared.raw[role]),
            "n_clean": len(ds),
            "splits": {part: len(idx) for part, idx in fold.items()},
            "folds": len(prepared.folds[role]),
        }
        if ds.labels is not None and prepared.task != "regression":
            entry["class_counts"] = {
                part: _counts(ds.labels[idx]) for part, idx in fold.items() if len(idx)
            }
        roles[role] = entry
    return {
        "task": prepared.task,
        "roles": roles,
        "cleaning": [a.to_dict() for a in prepared.cleaning],
    }


def _counts(labels: np.ndarray) -> dict[str, int]:
    known = [str(v) for v in labels if v is not None and not (isinstance(v, float) and v != v)]
    values, counts = np.unique(np.asarray(known, dtype=object), return_counts=True)
    return {str(v): int(c) for v, c in zip(values, counts, strict=True)}
