"""What a finished run writes for evaluation and reports (docs/run-folder.md), checked on a
tiny BERT run: predictions, metrics with intervals, worst examples, learning rates, data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import domainfit
from tests.models.tiny import save_tiny_bert, write_reviews_csv


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("run-files")
    bert = save_tiny_bert(tmp / "bert")
    cfg = {
        "name": "files",
        "data": {"source": str(write_reviews_csv(tmp / "reviews.csv"))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "strategy": {"name": "two_stage", "head_epochs": 1, "lr_factor": 0.1},
        "train": {"epochs": 3, "batch_size": 8, "lr": 5e-3, "schedule": "constant"},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp / "run").dir
    assert (run / "report.html").is_file()  # every run writes its report
    return run


def test_predictions_hold_every_test_sample_with_its_loss(run_dir: Path) -> None:
    data = json.loads((run_dir / "data.json").read_text())
    frame = pd.read_csv(run_dir / "predictions" / "source.test.csv")
    assert len(frame) == data["roles"]["source"]["splits"]["test"] > 0
    assert list(frame.columns) == ["id", "label", "prediction", "loss", "p:0", "p:1"]
    assert np.allclose(frame[["p:0", "p:1"]].sum(axis=1), 1.0, atol=1e-5)
    p_true = np.where(frame["label"] == 0, frame["p:0"], frame["p:1"])
    assert np.allclose(frame["loss"], -np.log(p_true), atol=1e-5)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    accuracy = (frame["label"] == frame["prediction"]).mean()
    assert metrics["source.test.accuracy"] == pytest.approx(accuracy)
    assert metrics["source.test.loss"] == pytest.approx(frame["loss"].mean())


def test_evaluation_has_intervals_around_the_estimates(run_dir: Path) -> None:
    ev = json.loads((run_dir / "evaluation.json").read_text())
    assert ev["task"] == "binary" and ev["headline"] == "accuracy"
    assert set(ev["splits"]) == {"source.val", "source.test"}
    test = ev["splits"]["source.test"]
    for name in ("accuracy", "balanced_accuracy", "f1_macro"):
        lo, hi = test["ci"][name]
        assert lo <= test["metrics"][name] <= hi, name
    assert sum(map(sum, test["confusion"])) == test["n"]
    assert [r["class"] for r in test["per_class"]] == ["0", "1"]


def test_examples_are_the_highest_loss_samples(run_dir: Path) -> None:
    doc = json.loads((run_dir / "examples" / "source.test.json").read_text())
    losses = [e["loss"] for e in doc["examples"]]
    frame = pd.read_csv(run_dir / "predictions" / "source.test.csv")
    assert losses == sorted(losses, reverse=True)
    assert losses[0] == pytest.approx(frame["loss"].max())
    assert doc["kind"] == "text" and all(e["text"] for e in doc["examples"])


def test_lr_trace_shows_the_unfreezing(run_dir: Path) -> None:
    rows = [json.loads(x) for x in (run_dir / "lr.jsonl").read_text().splitlines()]
    first, last = rows[0]["lr"], rows[-1]["lr"]
    assert first["head"] == last["head"] == pytest.approx(5e-3)
    assert first["layer.1"] == 0.0  # head-only epoch: the body is frozen
    assert last["layer.1"] == pytest.approx(5e-4)  # then unfrozen at lr * lr_factor
    assert [r["step"] for r in rows] == sorted(r["step"] for r in rows)


def test_report_command_for_one_run_and_a_comparison(run_dir: Path, tmp_path: Path) -> None:
    from domainfit.cli import main

    (run_dir / "report.html").unlink()
    assert main(["report", str(run_dir)]) == 0
    assert "<svg" in (run_dir / "report.html").read_text()
    out = tmp_path / "compare.html"
    assert main(["report", str(run_dir), str(run_dir), "--out", str(out)]) == 0
    assert out.is_file() and "| " in out.with_suffix(".md").read_text()
    assert main(["report", str(tmp_path / "nope")]) == 2
