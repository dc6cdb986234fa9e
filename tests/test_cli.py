"""The command line as a user meets it: exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domainfit.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_user_error(code: int, err: str, needle: str) -> None:
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    joined = " ".join(ln.strip() for ln in lines)
    assert joined.startswith("error:"), err
    assert "Traceback" not in err
    assert needle in joined, joined


def test_help_on_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "audit" in out
    for cmd in (
        "audit",
        "prepare",
        "datasets",
        "fit",
        "inspect",
        "predict",
        "export",
        "runs",
        "ui",
        "demo",
        "evaluate",
        "report",
    ):
        code, out, _ = run(capsys, cmd, "--help")
        assert code == 0 and "Example" in out


def test_audit_csv_with_json(
    capsys: pytest.CaptureFixture[str], planted_csv: Path, tmp_path: Path
) -> None:
    out_json = tmp_path / "out" / "audit.json"
    code, out, err = run(
        capsys,
        "audit",
        str(planted_csv),
        "--text",
        "text",
        "--set",
        "data.source.split=part",
        "--json",
        str(out_json),
    )
    assert code == 0, err
    assert "exact_duplicates" in out
    data = json.loads(out_json.read_text())
    counts = {(i["domain"], i["check"]): i["count"] for i in data["items"]}
    assert counts[("planted", "exact_duplicates")] == 4
    assert counts[("planted", "leakage_train_test")] == 1


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "audit", str(tmp_path / "nope.csv"))
    assert_user_error(code, err, "not found")


def test_error_leaves_no_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a;b;label\n1;2;0\n")
    out_json = tmp_path / "audit.json"
    code, _, err = run(capsys, "audit", str(bad), "--json", str(out_json))
    assert_user_error(code, err, "delimiter=';'")
    assert not out_json.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_missing_label_column_lists_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    p = tmp_path / "x.csv"
    p.write_text("text,stars\nok,5\n")
    code, _, err = run(capsys, "audit", str(p), "--label", "sentiment")
    assert_user_error(code, err, "column 'sentiment' not found")
    assert "(columns: text, stars)" in err.replace("\n", "")


def test_unknown_config_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data:\n  source: x.csv\nsplitt:\n  seed: 1\n")
    code, _, err = run(capsys, "audit", str(cfg))
    assert_user_error(code, err, "did you mean 'split'")


def test_wrong_type_in_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data:\n  source: x.csv\nsplit:\n  seed: [1, 2]\n")
    code, _, err = run(capsys, "audit", str(cfg))
    assert_user_error(code, err, "split.seed=[1, 2]")


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("split.train=-0.2", "split.train=-0.2 must lie in [0, 1]"),
        ("split.val=0.3", "must sum to 1"),
    ],
)
def test_bad_ratios(
    capsys: pytest.CaptureFixture[str], planted_csv: Path, override: str, needle: str
) -> None:
    code, _, err = run(capsys, "audit", str(planted_csv), "--set", override)
    assert_user_error(code, err, needle)


def test_debug_shows_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "audit", str(tmp_path / "nope.csv"), "--debug")
    assert code == 2 and "Traceback" in err


def test_internal_error_exit_1_with_log(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import domainfit.api

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(domainfit.api, "audit", boom)
    code, _, err = run(capsys, "audit", "x.csv")
    assert code == 1 and "internal error: RuntimeError: kaput" in err
    log = Path(err.split("traceback written to ")[1].split(";")[0].strip())
    assert "RuntimeError: kaput" in log.read_text()
    log.unlink()


def test_interrupt_exit_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import domainfit.api

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(domainfit.api, "audit", interrupted)
    code, _, _ = run(capsys, "audit", "x.csv")
    assert code == 130
