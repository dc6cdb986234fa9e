from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from domainfit.report import write_compare_report
from tests.report.runs import figures, make_run


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("compare")
    first = make_run(root / "probe", "binary", seed=1, skill=0.8, strategy="linear_probe")
    best = make_run(root / "full", "binary", seed=2, skill=2.5)
    bare = make_run(root / "bare", "binary", seed=3, skill=1.5, strategy="bitfit")
    mmd = make_run(root / "mmd", "binary", seed=4, skill=1.0, adapt="mmd", pretrained=False)
    (bare / "metrics.json").write_text(json.dumps({"source.test.accuracy": 0.5}))
    (best / "metrics.json").write_text(json.dumps({"source.test.accuracy": 0.9}))
    (best / "run.json").write_text(json.dumps({"name": "full", "seconds": 300.0}))
    model = json.loads((bare / "model" / "model.json").read_text())
    del model["trained_params"]
    (bare / "model" / "model.json").write_text(json.dumps(model))
    files = write_compare_report([first, best, bare, mmd], root / "out" / "compare.html")
    html, md = files.html, files.markdown
    assert html == root / "out" / "compare.html" and md == root / "out" / "compare.md"
    assert len(files.verdicts) == 3 and files.verdicts[0].startswith("source.test (n=150): ")
    return html.read_text(encoding="utf-8"), md.read_text(encoding="utf-8")


def test_markdown_leaderboard(compared: tuple[str, str]) -> None:
    _, md = compared
    lines = md.strip().splitlines()
    assert lines[0] == (
        "| # | run | approach | test split | accuracy [95% CI] | time | trained params |"
    )
    assert lines[1] == "|---|---|---|---|---|---|---|"
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 6
    assert lines[2].startswith("| 1 | full | full | source.test | 0.")  # best first
    assert "| 5.0 min |" in lines[2]  # seconds from run.json
    bare = next(line for line in lines if "| bare |" in line)
    assert bare.endswith("| n/a | n/a |")
    # the approach tells apart runs whose strategy is the same
    assert "| mmd | full + mmd (transductive) · from scratch |" in md
    # the significance verdicts, not only the ranking, reach the markdown
    verdicts = md[md.index("Against probe, paired") :]
    assert "full beats probe on accuracy by" in verdicts
    assert verdicts.count("- source.test (n=150): ") == 3


def test_html_leaderboard_curves_and_pairs(compared: tuple[str, str]) -> None:
    html, _ = compared
    assert "<h1>Comparison of 4 runs</h1>" in html
    assert set(figures(html)) == {"validation-curves"}
    assert "<svg" in figures(html)["validation-curves"]
    section = html[html.index('<section id="paired">') :]
    assert "<td>full</td><td>probe</td><td>source.test</td>" in section
    assert "<td>bare</td><td>probe</td><td>source.test</td>" in section
    assert "full beats probe on accuracy by" in section
    assert "http://" not in html and "https://" not in html


def test_runs_with_different_samples_are_not_paired(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", "binary")
    b = make_run(tmp_path / "b", "multiclass", n_classes=3)
    files = write_compare_report([a, b], tmp_path / "c.html")
    assert "the runs predict different classes" in files.html.read_text(encoding="utf-8")
    assert files.verdicts == ["b vs a on source.test: the runs predict different classes"]


def test_same_folder_names_are_told_apart(tmp_path: Path) -> None:
    a = make_run(tmp_path / "x" / "full", "binary")
    b = make_run(tmp_path / "y" / "full", "binary", seed=1)
    md = write_compare_report([a, b], tmp_path / "c.html").markdown
    assert "| x/full |" in md.read_text() and "| y/full |" in md.read_text()


def test_needs_a_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one run"):
        write_compare_report([], tmp_path / "c.html")


def test_a_losing_run_reads_from_the_winners_side(tmp_path: Path) -> None:
    weak = make_run(tmp_path / "weak", "binary", seed=1, skill=0.3)
    strong = make_run(tmp_path / "strong", "binary", seed=2, skill=3.0)
    html = write_compare_report([strong, weak], tmp_path / "c.html").html
    text = html.read_text(encoding="utf-8")
    sentence = re.search(r"strong beats weak on accuracy by [\d.]+ points \(95% CI ([^)]*)\)", text)
    assert sentence and sentence.group(1).startswith("+")  # the interval agrees with the words
    assert re.search(r'class="num worse">-[\d.]+ pts \[-', text)  # the table keeps weak − strong
