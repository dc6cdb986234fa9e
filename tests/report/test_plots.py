from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from domainfit.report import plots


def _ids(svg: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', svg))


def test_svg_is_inline_ready_and_ids_do_not_collide() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    proba = np.column_stack([1 - (p := rng.random(80)), p])
    roc = plots.roc_curves(y, proba, ["a", "b"], "ROC")
    pr = plots.pr_curves(y, proba, ["a", "b"], "PR")
    assert roc and pr
    for svg in (roc, pr):
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert "http" not in svg and "<?xml" not in svg and "DOCTYPE" not in svg
        refs = set(re.findall(r'href="#([^"]+)"', svg)) | set(re.findall(r"url\(#([^)]+)\)", svg))
        assert refs <= _ids(svg)  # every reference resolves inside its own figure
    assert not _ids(roc) & _ids(pr)
    assert plt.get_fignums() == []  # figures are closed


def test_same_input_same_svg() -> None:
    history = [
        {"epoch": e, "step": 10 * e, "train.loss": 1 / (e + 1), "val.loss": 1.0} for e in range(3)
    ]
    assert plots.learning_curves(history) == plots.learning_curves(history)


def test_titles_and_axis_labels() -> None:
    svg = plots.regression_scatter(np.arange(10.0), np.arange(10.0) + 0.5, "True vs predicted")
    assert svg is not None
    for text in ("True vs predicted", "true value", "predicted value"):
        assert f">{text}</text>" in svg


def test_learning_rates_show_frozen_groups_as_gaps() -> None:
    rows = [{"step": s, "lr": {"body": 0.0 if s < 5 else 1e-4, "head": 1e-3}} for s in range(10)]
    svg = plots.learning_rates(rows)
    assert svg is not None and ">body</text>" in svg and ">head</text>" in svg
    frozen = [{"step": s, "lr": {"body": 0.0}} for s in range(3)]
    assert plots.learning_rates(frozen) is None
    assert plots.learning_rates([]) is None


def test_confusion_annotations_only_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert plots.MAX_ANNOTATED_CLASSES == 20
    monkeypatch.setattr(plots, "MAX_ANNOTATED_CLASSES", 3)  # small matrices draw fast

    def counts_drawn(n: int) -> bool:
        svg = plots.confusion_heatmap(np.eye(n) * 5 + 1, [f"k{i}" for i in range(n)], "Confusion")
        assert svg is not None
        return ">6</text>" in svg  # a diagonal cell's count

    assert counts_drawn(3)
    assert not counts_drawn(4)
    assert plots.confusion_heatmap([[1, 2], [3, 4]], ["a", "b", "c"], "bad shape") is None


def test_curves_need_both_outcomes_and_stop_at_ten_classes() -> None:
    y = np.zeros(20, dtype=int)
    proba = np.tile([0.7, 0.3], (20, 1))
    assert plots.roc_curves(y, proba, ["a", "b"], "ROC") is None  # no positives: no curve
    rng = np.random.default_rng(1)
    y = rng.integers(0, 15, 300)
    proba = rng.dirichlet(np.ones(15), 300)
    svg = plots.pr_curves(y, proba, [f"c{i}" for i in range(15)], "PR")
    assert svg is not None and svg.count("(AP ") == plots.MAX_CURVE_CLASSES


def test_validation_overlay() -> None:
    rows = [{"epoch": e, "val.loss": 1 / (e + 1), "val.accuracy": 0.5 + e / 10} for e in range(4)]
    svg = plots.validation_overlay({"a": rows, "b": rows[:2], "empty": []}, "val.accuracy")
    assert svg is not None and ">Validation accuracy</text>" in svg and ">b</text>" in svg
    assert plots.validation_overlay({}, "val.accuracy") is None


def test_user_names_are_drawn_literally() -> None:
    classes = ["$5 & <b>", "_hidden", "plain"]
    cm = [[3, 1, 0], [0, 4, 1], [1, 0, 5]]
    svg = plots.confusion_heatmap(cm, classes, "Confusion")
    assert svg is not None
    assert ">$5 &amp; &lt;b&gt;</text>" in svg and "> _hidden</text>" in svg
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 60)
    roc = plots.roc_curves(y, rng.dirichlet(np.ones(3), 60), classes, "ROC")
    assert roc is not None and "_hidden (AUC" in roc
