"""``domainfit sweep`` in one process: trials, pruning, failures, outputs, resuming."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

import domainfit
from domainfit.cli import main
from domainfit.config_io import load_config


def _sweep(cfg: dict[str, Any], out: Path, **kwargs: Any) -> Any:
    return domainfit.sweep(cfg, out=out, quiet=True, **kwargs)


def test_sweep_writes_leaderboard_report_and_a_best_config_fit_can_train(
    sweep_config: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    result = _sweep(sweep_config, out)
    assert sum(result.counts[s] for s in ("complete", "pruned", "failed")) == 4
    doc = json.loads((out / "trials.json").read_text())
    assert doc["metric"] == "target.val.accuracy" and len(doc["trials"]) == 4
    best = doc["best"]
    assert (
        best["value"]
        == result.best_value
        == max(t["value"] for t in doc["trials"] if t["value"] is not None)
    )
    # every trial is a run folder, with the parameters it was given
    for t in doc["trials"]:
        cfg = yaml.safe_load((Path(t["run_dir"]) / "config.yaml").read_text())
        assert cfg["train"]["lr"] == pytest.approx(t["params"]["train.lr"])
        assert cfg["strategy"]["name"] == t["params"]["strategy.name"]
    html = (out / "sweep.html").read_text()
    assert "Leaderboard" in html and "<svg" in html and "best.yaml" in html
    assert (out / "leaderboard.csv").read_text().splitlines()[0].startswith("trial,state,value")
    # best.yaml is a plain fit config holding the best parameters
    best_cfg = load_config(out / "best.yaml")
    assert best_cfg.sweep is None
    assert best_cfg.train.lr == pytest.approx(best["params"]["train.lr"])
    run = domainfit.fit(out / "best.yaml", out=tmp_path / "refit")
    assert run.metrics["target.val.accuracy"] == pytest.approx(best["value"])


def test_failing_trials_are_recorded_with_their_reason_and_the_sweep_goes_on(
    sweep_config: dict[str, Any], tmp_path: Path
) -> None:
    sweep_config["sweep"].update(
        sampler="grid", pruner="none", params={"train.lr": {"choice": [0.01, 1e30]}}
    )
    result = _sweep(sweep_config, tmp_path / "sweep")
    assert result.counts["complete"] == 1 and result.counts["failed"] == 1
    rows = json.loads((tmp_path / "sweep" / "trials.json").read_text())["trials"]
    failed = next(r for r in rows if r["state"] == "failed")
    assert failed["params"]["train.lr"] == 1e30
    assert "TrainingDivergedError" in failed["reason"] and "loss became" in failed["reason"]
    assert result.best_params == {"train.lr": 0.01}


def test_hopeless_trials_are_pruned_before_their_last_epoch(
    sweep_config: dict[str, Any], tmp_path: Path
) -> None:
    sweep_config["train"]["epochs"] = 6
    lrs = [0.03, 0.02, 0.01, 1e-7]
    sweep_config["sweep"].update(
        sampler="grid", pruner="median", startup_trials=2, params={"train.lr": {"choice": lrs}}
    )
    result = _sweep(sweep_config, tmp_path / "sweep")
    rows = json.loads((tmp_path / "sweep" / "trials.json").read_text())["trials"]
    hopeless = next(r for r in rows if r["params"]["train.lr"] == 1e-7)
    assert hopeless["state"] == "pruned"
    assert hopeless["validations"] < 6
    assert all(r["validations"] < 6 for r in rows if r["state"] == "pruned")
    assert result.counts["complete"] >= 2


def test_running_again_resumes_and_more_trials_extend_the_study(
    sweep_config: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    _sweep(sweep_config, out, trials=2)
    again = _sweep(sweep_config, out, trials=2)  # budget already used: nothing new runs
    assert sum(again.counts.values()) == 2
    more = _sweep(sweep_config, out, trials=3)
    assert sum(more.counts.values()) == 3
    with sqlite3.connect(out / "study.db") as db:
        assert db.execute("select count(*) from trials").fetchone()[0] == 3


def test_a_changed_config_is_not_mixed_into_an_old_sweep(
    sweep_config: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    _sweep(sweep_config, out, trials=1)
    sweep_config["train"]["epochs"] = 5
    with pytest.raises(domainfit.errors.ConfigError, match="another config"):
        _sweep(sweep_config, out, trials=1)


def test_cli_refuses_a_config_without_sweep_and_writes_nothing(
    sweep_config: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del sweep_config["sweep"]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(sweep_config))
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no sweep section" in err and "add sweep:" in err
    assert not out.exists()


def test_cli_refuses_a_parameter_path_that_is_not_in_the_config(
    sweep_config: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_config["sweep"]["params"] = {"train.learning_rate": {"log_uniform": [1e-4, 1e-2]}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(sweep_config))
    assert main(["sweep", str(path), "--out", str(tmp_path / "sweep")]) == 2
    assert "unknown key 'learning_rate'" in capsys.readouterr().err
    assert not (tmp_path / "sweep").exists()


def test_trials_are_mlflow_children_of_the_sweep_run(
    sweep_config: dict[str, Any], tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    sweep_config["track"] = {"enabled": True, "uri": uri, "experiment": "sweeps"}
    sweep_config["sweep"].update(sampler="grid", params={"train.lr": {"choice": [0.01, 1e30]}})
    _sweep(sweep_config, tmp_path / "sweep")
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("sweeps")
    runs = {r.info.run_name: r for r in client.search_runs([exp.experiment_id])}
    parent = runs.pop("tiny-sweep")
    assert parent.info.status == "FINISHED" and parent.data.metrics["best_value"] > 0.5
    assert parent.data.metrics["trials.failed"] == 1
    assert sorted(runs) == ["tiny-trial0", "tiny-trial1"]
    assert {r.data.tags["mlflow.parentRunId"] for r in runs.values()} == {parent.info.run_id}
    assert sorted(r.info.status for r in runs.values()) == ["FAILED", "FINISHED"]
