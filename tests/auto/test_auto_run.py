"""Whole ``auto`` runs on tiny feature arrays: the files, the winner, its baselines, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

import domainfit
from domainfit.config_io import load_config
from tests.auto.conftest import NO_TRACKING, SETS
from tests.test_cli import run

pytestmark = pytest.mark.usefixtures("short_plan")


def test_auto_without_target(
    domains: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "exp"
    result = domainfit.auto(str(domains[0]), budget="60s", out=out, overrides=NO_TRACKING)
    for name in ("auto.json", "auto.html", "winner.yaml", "auto_state.json"):
        assert (out / name).is_file(), name
    assert (out / "model" / "model.safetensors").is_file()
    doc = json.loads((out / "auto.json").read_text())
    assert [r["status"] for r in doc["steps"]] == ["done", "done", "skipped"]  # no search here
    assert doc["seconds"] <= 60 * 1.1
    board = doc["leaderboard"]
    assert board[0]["scores"]["source.val"] >= board[-1]["scores"]["source.val"]
    assert board[0]["scores"]["source.test.ci"]  # the run's own 95% interval
    assert doc["winner"]["id"] == board[0]["id"] == result.winner["id"]
    assert result.files["winner.yaml"] == out / "winner.yaml"
    # 200 labelled rows: the winner's recipe is trained again on all of them and exported
    refit = doc["final"]["refit"]
    assert refit["dir"] == "refit" and refit["rows"] == 200, refit
    assert (out / "refit" / "model" / "model.safetensors").is_file()
    refit_cfg = load_config(out / "refit" / "config.yaml")
    assert (refit_cfg.split.train, refit_cfg.split.val, refit_cfg.split.test) == (1.0, 0.0, 0.0)
    assert "every labelled row" in (out / "winner.yaml").read_text()
    html = (out / "auto.html").read_text()
    assert "Leaderboard" in html and "domainfit fit winner.yaml" in html
    # the plain config trains the winner again
    plain = yaml.safe_load((out / "winner.yaml").read_text())
    assert "max_seconds" not in plain.get("train", {}) and not plain.get("baselines")
    again = domainfit.fit(out / "winner.yaml", out=tmp_path / "again")
    assert again.metrics["source.test.accuracy"] > 0.8


def test_auto_with_target_chooses_without_target_labels(
    capsys: pytest.CaptureFixture[str],
    domains: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    src, tgt = domains
    out = tmp_path / "exp"
    args = ["auto", str(src), "--target", str(tgt), "--budget", "60s", "--out", str(out)]
    code, stdout, err = run(capsys, *args, *SETS)
    assert code == 0, err
    assert "step 4/4 04-mmd: mmd on 01-full-lr1e-3" in err  # the best source-only step
    assert "winner.yaml" in stdout and "label-free" in stdout
    doc = json.loads((out / "auto.json").read_text())
    rows = {r["id"]: r for r in doc["steps"]}
    assert all("im" in r["scores"] for r in rows.values() if r["status"] == "done")
    winner = doc["winner"]
    best_source = max(
        (r for r in rows.values() if r["phase"] == "strategy"),
        key=lambda r: r["scores"]["source.val"],
    )
    chosen_by_im = max([best_source, rows["04-mmd"]], key=lambda r: r["scores"]["im"])
    assert winner["id"] == chosen_by_im["id"]
    final = doc["final"]["baselines"]["compared"]["baselines"]
    assert "skipped" in final["scratch"] and "skipped" in final["linear_probe"]  # an mlp
    if winner["phase"] == "adapt":  # source_only is the step it adapted: reused, not retrained
        assert "comparisons" in final["source_only"]
        assert doc["final"]["baselines"]["notes"]["source_only"].startswith("step 01")
    assert (out / winner["dir"] / "diagnosis.json").is_file()
    assert load_config(out / "winner.yaml").adapt.method == winner["method"]
    if winner["phase"] == "adapt":
        assert "adaptation" in doc["final"]["refit"]["skipped"]


def test_rerun_resumes(
    capsys: pytest.CaptureFixture[str],
    domains: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A state with one finished step and one half-written folder (as a kill leaves them):
    the finished step is skipped, the other is deleted and runs again."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "exp"
    args = ["auto", str(domains[0]), "--budget", "60s", "--out", str(out), *SETS]
    assert run(capsys, *args)[0] == 0
    state_path = out / "auto_state.json"
    state = json.loads(state_path.read_text())
    first, second = sorted(state["steps"])
    del state["steps"][second]
    state_path.write_text(json.dumps(state))
    half = out / "steps" / second
    (half / "run.json").unlink()
    (half / "metrics.json").unlink()
    marker = out / "steps" / first / "untouched"
    marker.write_text("")
    code, _, err = run(capsys, *args)
    assert code == 0, err
    assert f"step {first}: finished earlier (done), skipped" in err
    assert f"step {second} was interrupted" in err
    assert marker.is_file()  # the finished step's folder was left alone
    assert (half / "run.json").is_file()
    assert sorted(json.loads(state_path.read_text())["steps"]) == [first, second]
    # finished, but stopped before the state said so: its folder is taken as it is
    state = json.loads(state_path.read_text())
    del state["steps"][second]
    state_path.write_text(json.dumps(state))
    code, _, err = run(capsys, *args)
    assert code == 0 and "finished in an earlier attempt" in err
    assert json.loads(state_path.read_text())["steps"][second]["status"] == "done"


def test_out_of_another_command_is_refused(
    capsys: pytest.CaptureFixture[str], domains: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "exp"
    out.mkdir()
    (out / "auto_state.json").write_text(
        json.dumps({"format": "domainfit-auto", "version": 1, "command": {"source": "x"}})
    )
    code, _, err = run(capsys, "auto", str(domains[0]), "--out", str(out), "--budget", "1m")
    assert code == 2 and "holds an auto run of another command" in err
    assert sorted(p.name for p in out.iterdir()) == ["auto_state.json"]
    shutil.rmtree(out)
