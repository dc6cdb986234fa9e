from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from domainfit.report import write_run_report
from tests.report.runs import figures, make_kfold, make_run

SPLITS = ("source.test", "target.test", "source.val")


def _without_sample_text(html: str) -> str:
    """The page minus the example texts, which may quote URLs as (escaped) text."""
    return re.sub(r'<td class="text">.*?</td>', "", html, flags=re.S)


def test_binary_report_has_every_figure_with_an_svg(binary: tuple[Path, str]) -> None:
    path, html = binary
    assert path == path.parent / "report.html"
    expected = {"learning-curves", "learning-rates"} | {
        f"{kind}-{split}" for split in SPLITS for kind in ("confusion", "roc", "pr")
    }
    found = figures(html)
    assert set(found) == expected
    for name, inner in found.items():
        assert "<svg" in inner and "</svg>" in inner and "<figcaption>" in inner, name


def test_report_is_self_contained(binary: tuple[Path, str]) -> None:
    _, html = binary
    rest = _without_sample_text(html)
    assert "http://" not in rest and "https://" not in rest
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*//""", html)
    assert "@import" not in html and "<link" not in html and "<script" not in html


def test_sample_text_is_escaped(binary: tuple[Path, str]) -> None:
    _, html = binary
    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "https://example.com/buy &amp; &#34;save&#34;" in html


def test_header_config_data_and_training(binary: tuple[Path, str]) -> None:
    _, html = binary
    assert "<h1>run-binary</h1>" in html
    assert "approach <b>full</b>" in html and "backbone <b>minilm</b>" in html
    assert re.search(r"accuracy on target.test: <b>0\.\d{3}</b>", html)
    assert re.search(r"95% CI \[0\.\d{3}, 0\.\d{3}\]", html)
    assert "<details><summary>config.yaml (resolved)</summary><pre>" in html
    assert "kitchen" in html and "drop_duplicates" in html  # data.json
    assert 'class="bar" style="width: 100.0%"' in html  # the largest class's bar


def test_split_tables(binary: tuple[Path, str]) -> None:
    _, html = binary
    for split in SPLITS:
        assert f'<section id="split-{split}">' in html
    assert "<h3>Per class</h3>" in html and "<h3>Most confused</h3>" in html
    assert "<h3>Highest-loss examples</h3>" in html
    # tests before validation, source before target
    assert html.index("split-source.test") < html.index("split-target.test")
    assert html.index("split-target.test") < html.index("split-source.val")


def test_against_baselines(binary: tuple[Path, str]) -> None:
    _, html = binary
    section = html[html.index('<section id="baselines">') :]
    assert "<td>run</td><td>base</td><td>source.test</td>" in section
    assert "run beats base on accuracy by" in section
    assert "McNemar p" in section
    assert "base has no predictions on target.test" in section  # the baseline has no target


def test_multiclass_images_and_many_classes(tmp_path: Path) -> None:
    run = make_run(tmp_path / "multi", "multiclass", n_classes=12, kind="image", val=False)
    (run / "lr.jsonl").unlink()
    html = write_run_report(run).read_text(encoding="utf-8")
    found = figures(html)
    assert "learning-rates" not in found  # no lr.jsonl
    assert {"learning-curves", "confusion-source.test", "roc-source.test", "pr-source.test"} <= set(
        found
    )
    assert found["roc-source.test"].count("(AUC ") == 10  # at most 10 classes drawn
    assert '<img class="thumb" alt="sample ' in html
    assert 'src="data:image/png;base64,' in html


def test_regression_report(tmp_path: Path) -> None:
    run = make_run(tmp_path / "reg", "regression")
    base = make_run(tmp_path / "reg-base", "regression", seed=3, skill=0.5)
    html = write_run_report(run, [base]).read_text(encoding="utf-8")
    found = figures(html)
    assert {"scatter-source.test", "scatter-source.val", "learning-curves"} <= set(found)
    assert not any(n.startswith(("roc-", "pr-", "confusion-")) for n in found)
    assert re.search(r"rmse on source.test: <b>\d\.\d{3}</b>", html)
    assert "<td>RMSE</td>" in html and "reg beats reg-base on RMSE by" in html


def test_kfold_parent_shows_folds(kfold: str) -> None:
    assert '<section id="cv">' in kfold
    assert '<a href="folds/fold-0/report.html">fold-0</a>' in kfold
    assert "fold-1" in kfold and "fold-2" in kfold
    assert re.search(r"<b>0\.\d{3}</b> ± 0\.\d{3}", kfold)  # mean ± std
    assert "Each fold's run" in kfold
    assert re.search(r"accuracy over 3 folds: <b>0\.\d{3}</b>", kfold)


def test_missing_optional_files_leave_their_sections_out(tmp_path: Path) -> None:
    run = make_run(tmp_path / "bare", "binary")
    for name in ("lr.jsonl", "data.json", "metrics.jsonl"):
        (run / name).unlink()
    shutil.rmtree(run / "examples")
    shutil.rmtree(run / "predictions")
    html = write_run_report(run, [tmp_path / "no-such-run"]).read_text(encoding="utf-8")
    assert set(figures(html)) == {"confusion-source.test", "confusion-source.val"}
    assert '<section id="data">' not in html and '<section id="training">' not in html
    assert "Highest-loss examples" not in html
    assert "no-such-run is not a run folder" in html


def test_empty_and_broken_folders_still_give_a_report(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "<h1>empty</h1>" in write_run_report(empty).read_text(encoding="utf-8")
    broken = make_run(tmp_path / "broken", "multiclass")
    (broken / "evaluation.json").write_text("{not json")
    (broken / "metrics.jsonl").write_text('{"epoch": 0, "val.loss": 1.0}\n{"epoch": 1, "val.l')
    (broken / "lr.jsonl").write_text(json.dumps({"step": 1, "lr": {"head": 0.0}}) + "\n")
    html = write_run_report(broken).read_text(encoding="utf-8")
    assert set(figures(html)) == {"learning-curves"}  # all-frozen lr: nothing to draw


def test_write_is_atomic_and_repeatable(binary: tuple[Path, str]) -> None:
    path, html = binary
    assert not list(path.parent.glob(".report.html.*"))  # no temp file left behind
    assert "</html>" in html.rstrip()[-10:]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_headline_from_metrics_json_when_evaluation_is_missing(tmp_path: Path, task: str) -> None:
    run = make_run(tmp_path / task, task, examples=False, lr=False)
    (run / "evaluation.json").unlink()
    html = write_run_report(run).read_text(encoding="utf-8")
    metric = "rmse" if task == "regression" else "accuracy"
    assert re.search(rf"{metric} on source.test: <b>\d\.\d{{3}}</b>", html)


def test_kfold_without_fold_rows_reads_the_fold_runs(tmp_path: Path) -> None:
    parent = make_kfold(tmp_path / "cv", k=2)
    (parent / "cv.json").write_text(json.dumps({"k": 2}))
    html = write_run_report(parent).read_text(encoding="utf-8")
    assert '<section id="cv">' in html and "fold-1" in html
    assert re.search(r"accuracy over 2 folds: <b>0\.\d{3}</b>", html)


def test_examples_without_text_or_image_have_no_sample_column(tmp_path: Path) -> None:
    run = make_run(tmp_path / "tab", "binary", kind="tabular", lr=False, val=False)
    html = write_run_report(run).read_text(encoding="utf-8")
    assert "Highest-loss examples" in html and "<th>sample</th>" not in html
