"""Bad input to ``domainfit auto``: one line naming the problem and the fix, exit code 2, and
nothing written (the experiment folder is created only once the input is validated)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_cli import run


def assert_user_error(code: int, err: str, needle: str) -> None:
    """Exit 2 and one error line (progress lines may come before it), no traceback."""
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert code == 2 and len(errors) == 1, err
    assert "Traceback" not in err and needle in errors[0], err


def _table(path: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame["y"] = rng.integers(0, 2, 60)
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing.csv"], "data file missing.csv not found"),
        (["{table}", "--label", "nope"], "column 'nope' not found"),
        (["{table}", "--budget", "soon"], "--budget 'soon' is not a duration"),
        (["{table}", "--budget", "30s"], "under the minimum of 60 s"),
        (["{table}", "--target", "{table}"], "the source and the target are the same data"),
        (["{table}", "--models", "minilm"], "reads text and images"),
        (["{table}", "--set", "split.method=kfold"], "one holdout split"),
        (["{table}", "--set", "split.val=0", "--set", "split.train=0.85"], "split.val is 0"),
        ([], "auto needs the source data"),
    ],
)
def test_bad_input_fails_at_once(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    needle: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    table = str(_table(tmp_path / "t.csv"))
    out = tmp_path / "exp"
    argv = [a.replace("{table}", table) for a in args]
    label = [] if "--label" in argv else ["--label", "y"]
    code, _, err = run(capsys, "auto", *argv, "--out", str(out), *label)
    assert_user_error(code, err, needle)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_out_that_is_not_an_auto_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str
) -> None:
    out = tmp_path / "exp"
    if kind == "folder":
        out.mkdir()
        (out / "mine.txt").write_text("keep me")
    else:
        out.write_text("keep me")
    code, _, err = run(capsys, "auto", str(_table(tmp_path / "t.csv")), "--out", str(out))
    assert_user_error(code, err, "choose another --out")
    assert (out / "mine.txt").read_text() == "keep me" if kind == "folder" else out.is_file()


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "auto", "--help")
    assert code == 0 and "Example" in out and "--budget" in out
