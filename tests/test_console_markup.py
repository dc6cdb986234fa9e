"""User-facing text with square brackets must reach the console intact: rich reads ``[word]`` as
markup and silently drops it ("keep baselines: [source_only]" printed as "keep baselines: ")."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from domainfit.cli import main
from domainfit.console import render_diagnosis, render_ranking
from domainfit.diagnose.diagnose import Diagnosis
from domainfit.diagnose.findings import Finding


def _recording() -> Console:
    return Console(record=True, width=400, color_system=None)


def test_finding_fix_and_title_keep_brackets() -> None:
    finding = Finding(
        code="domain_gap",
        severity="medium",
        title="target [kitchen] looks unlike source [books]",
        evidence={},
        fix="keep baselines: [source_only] to see whether that closes it",
    )
    console = _recording()
    render_diagnosis(Diagnosis([finding], ran=["domain_gap"], skipped={"x[y]": "why [z]"}), console)
    text = console.export_text()
    assert "keep baselines: [source_only] to see" in text
    assert "target [kitchen] looks unlike source [books]" in text
    assert "not run: x[y]: why [z]" in text


def test_ranking_names_keep_brackets() -> None:
    from domainfit.rank.ranking import Ranked, Ranking

    row = Ranked(
        rank=1,
        name="local:[bert]",
        scores={"logme": 1.0},
        cost={"params": 1e6, "latency_ms": 1.0, "peak_mb": 10.0, "finetune_minutes": 1.0},
    )
    result = Ranking(
        rows=[row],
        by="logme",
        samples=10,
        classes=2,
        recommendation="local:[bert] (best [logme])",
        failed={"hf:[x]": "no [weights] offline"},
    )
    console = _recording()
    render_ranking(result, console)
    text = console.export_text()
    assert "local:[bert] (best [logme])" in text
    assert "hf:[x]: no [weights] offline" in text


def test_error_line_keeps_brackets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("data:\n  source: {spec: '[missing].csv'}\n", encoding="utf-8")
    code = main(["audit", str(config)])
    assert code == 2
    assert "[missing].csv" in capsys.readouterr().err


def test_domainfit_warnings_print_as_one_plain_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "sentences.tsv"
    rows = [f"sentence number {i} reads fine.\t{i % 2}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    # a fresh process: pytest records warnings, the command line shows them
    code = "import sys; from domainfit.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "audit", str(path), "--quiet"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if "looks like data" in x)
    assert line.startswith("warning: ") and "HeaderWarning" not in done.stderr
    assert ".py:" not in done.stderr


def test_tables_in_a_pipe_are_not_folded_to_80_columns(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    code = "import sys; from domainfit.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "datasets"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    widest = max(len(line) for line in done.stdout.splitlines())
    assert 80 < widest <= 160


def test_a_plain_userwarning_from_domainfit_is_one_line() -> None:
    import warnings

    from domainfit.cli import _format_warning

    inside = str(Path(__import__("domainfit").__file__).parent / "adapt" / "classic_align.py")
    line = _format_warning("CORAL's eps is large", UserWarning, inside, 110)
    assert line == "warning: CORAL's eps is large\n"
    elsewhere = _format_warning("deprecated", UserWarning, "/usr/lib/x.py", 3)
    assert elsewhere == warnings._formatwarning_orig("deprecated", UserWarning, "/usr/lib/x.py", 3)  # type: ignore[attr-defined]
