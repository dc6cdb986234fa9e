"""``label_noise`` shows what to review: each top suspect's input, given and predicted class
with the model's confidence, and whether the label looks wrong or the model gets it wrong."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rich.console import Console

import domainfit
import domainfit.api as api
from domainfit.console import render_diagnosis
from domainfit.diagnose.feature_findings import Labelled
from domainfit.diagnose.label_noise import label_noise
from domainfit.diagnose.label_review import LABEL_WRONG, MODEL_WRONG, verdicts
from tests.diagnose import planted

KEYS = ["id", "input", "label", "label_prob", "predicted", "confidence", "neighbours_agree"]


def _flipped(share: float = 0.1) -> Labelled:
    frame = planted.flip_labels(planted.blobs(), share)
    x = frame[[f"f{i}" for i in range(planted.D)]].to_numpy()
    texts = [f"review {i}: " + "a long text that goes on " * 8 for i in range(len(frame))]
    ids = [f"row {i}" for i in range(len(frame))]
    return Labelled("shop", x, frame["label"].to_numpy(), ids, texts, ["neg", "pos"])


def test_the_rule_separates_a_wrong_label_from_a_hard_example() -> None:
    probs = np.array([[0.05, 0.95], [0.4, 0.6], [0.1, 0.9]])
    y = np.array([0, 0, 0])
    rows = np.arange(3)
    got = verdicts(probs, y, rows, np.array([0.9, 0.9, 0.5]))
    # sure and backed by the neighbours; given class the close 2nd choice; neighbours mixed
    assert got == [LABEL_WRONG, MODEL_WRONG, MODEL_WRONG]


def test_suspects_carry_text_labels_and_a_verdict() -> None:
    (f,) = label_noise(_flipped(), cfg={"strategy": {"name": "linear_probe"}})
    ev = f.evidence
    assert ev["label_looks_wrong"] + ev["model_gets_it_wrong"] == ev["suspects"]
    assert f"{ev['label_looks_wrong']} of which look mislabelled" in f.title
    # the detail shows the top rows; examples hold every suspect for --json
    assert len(f.detail) == 10 and len(f.examples) == ev["suspects"]
    assert {r["id"] for r in f.detail} <= set(f.examples)
    first = f.detail[0]
    assert list(first)[: len(KEYS)] == KEYS and first["verdict"] == LABEL_WRONG
    assert first["label"] in ("neg", "pos") and first["predicted"] != first["label"]
    assert len(first["input"]) == 80 and first["input"].endswith("…")
    assert first["confidence"] > 0.5 > first["label_prob"]
    assert "linear_probe" not in f.fix  # already the strategy: not suggested again


def test_detail_reaches_json_console_and_report(tmp_path: Path) -> None:
    noisy = planted.flip_labels(planted.blobs(), 0.2)
    source = planted.write(noisy, tmp_path / "noisy.csv")
    run = domainfit.fit(planted.config(source, epochs=2), out=tmp_path / "run")
    result = api.diagnose(run=run.dir)
    (f,) = [f for f in result.findings if f.code == "label_noise"]
    assert f.detail[0]["input"].startswith("f0=")  # a table row shows its values
    saved = json.loads((run.dir / "diagnosis.json").read_text())
    (row,) = [r for r in saved["findings"] if r["code"] == "label_noise"]
    assert row["detail"] == f.detail
    report = (run.dir / "report.html").read_text()
    assert "label_noise: rows to review" in report and f.detail[0]["id"] in report
    console = Console(record=True, width=200)
    render_diagnosis(result, console)
    assert "label_noise: rows to review" in console.export_text()
