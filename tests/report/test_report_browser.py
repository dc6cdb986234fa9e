"""Reports open in a real browser: no console or page errors, nothing fetched, every figure drawn
with a size. Chromium is the system's; a machine without it (and without a way to install it)
fails here rather than skipping, so a missing browser is never mistaken for a pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from domainfit.report import write_compare_report, write_run_report
from domainfit.report.browser import BrowserUnavailableError, check_page, ensure_chromium
from tests.report.runs import figures, make_run

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot-report"


@pytest.fixture(scope="module")
def chromium() -> Path:
    try:
        return ensure_chromium()
    except BrowserUnavailableError as exc:
        pytest.fail(f"Chromium is needed for the browser test: {exc}")


def _assert_renders(html: Path, shot: Path, chromium: Path) -> None:
    check = check_page(html, screenshot=shot, width=1100)
    assert check.console_errors == []
    assert check.page_errors == []
    assert check.requests == []  # self-contained: nothing else was fetched
    expected = set(figures(html.read_text(encoding="utf-8")))
    assert expected and set(check.figures) == expected
    for name, (width, height) in check.figures.items():
        assert width > 100 and height > 100, name
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_report_renders(tmp_path: Path, chromium: Path) -> None:
    run = make_run(tmp_path / "run", "multiclass", n_classes=4, kind="image", target=True)
    base = make_run(tmp_path / "base", "multiclass", n_classes=4, seed=1, skill=1.0)
    _assert_renders(write_run_report(run, [base]), tmp_path / "run.png", chromium)


def test_compare_report_renders(tmp_path: Path, chromium: Path) -> None:
    runs = [make_run(tmp_path / f"r{i}", "regression", seed=i, examples=False) for i in range(2)]
    html = write_compare_report(runs, tmp_path / "compare.html").html
    _assert_renders(html, tmp_path / "compare.png", chromium)


def test_the_check_sees_errors_and_fetches(tmp_path: Path, chromium: Path) -> None:
    """Guards the guard: a page that fetches and logs errors is caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><body><img src="https://example.invalid/a.png">'
        '<script>console.error("boom"); undefinedFunction();</script></body></html>'
    )
    check = check_page(page)
    assert check.requests == ["https://example.invalid/a.png"]
    assert "boom" in check.console_errors
    assert any("undefinedFunction" in e for e in check.page_errors)


def test_screenshot_script_writes_a_png(tmp_path: Path, chromium: Path) -> None:
    run = make_run(tmp_path / "run", "regression", lr=False, val=False)
    out = tmp_path / "shot.png"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(run), "--out", str(out), "--width", "900"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (run / "report.html").is_file()  # a run folder without a report gets one first
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_chromium_that_cannot_be_installed_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # not root: no apt-get
    with pytest.raises(BrowserUnavailableError, match="cannot install"):
        ensure_chromium(tmp_path / "chromium")
