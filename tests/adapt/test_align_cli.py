"""``domainfit align``: classic feature-level adaptation from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.test_cli import assert_user_error, run


def _config(tmp_path: Path, source: str, target: str | None) -> Path:
    data = {"source": source} if target is None else {"source": source, "target": target}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"data": data}))
    return path


def test_source_only_1nn_reproduces_the_published_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    """JDA protocol, Office-Caltech10 SURF amazon -> webcam: published 1-NN 29.83%."""
    cfg = _config(tmp_path, "office-caltech-surf:amazon", "office-caltech-surf:webcam")
    out = tmp_path / "a"
    code, stdout, err = run(
        capsys, "align", str(cfg), "--method", "none", "--preprocess", "office", "--out", str(out)
    )
    assert code == 0, err
    summary = json.loads((out / "alignment.json").read_text())
    assert round(100 * summary["accuracy"], 2) == 29.83
    assert "29.83%" in stdout
    assert (out / "predictions" / "target.csv").is_file()


def test_coral_with_logreg_scores_without_labels(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    cfg = _config(tmp_path, "office-caltech-surf:amazon", "office-caltech-surf:dslr")
    out = tmp_path / "c"
    args = ["align", str(cfg), "--method", "coral", "--classifier", "logreg", "--out", str(out)]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    summary = json.loads((out / "alignment.json").read_text())
    assert set(summary["validators"]) == {"im", "snd"}
    assert summary["accuracy"] > 0.25  # 10 classes: chance is 0.1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--method", "jdaa"], "unknown method 'jdaa'"),
        (["--classifier", "knn"], "unknown classifier 'knn'"),
        (["--method", "sa", "--param", "dims=3"], "unknown dims"),
        (["--param", "dim"], "is not name=value"),
    ],
)
def test_bad_options_are_one_line_errors_and_write_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    shared_data: Path,
    args: list[str],
    needle: str,
) -> None:
    cfg = _config(tmp_path, "office-caltech-surf:dslr", "office-caltech-surf:webcam")
    out = tmp_path / "x"
    code, _, err = run(capsys, "align", str(cfg), *args, "--out", str(out))
    assert_user_error(code, err, needle)
    assert not out.exists()


def test_align_needs_a_target(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = _config(tmp_path, "office-caltech-surf:dslr", None)
    code, _, err = run(capsys, "align", str(cfg), "--out", str(tmp_path / "x"))
    assert_user_error(code, err, "needs data.target")
