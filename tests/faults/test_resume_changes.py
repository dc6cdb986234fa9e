"""What ``fit --resume`` may change: more epochs where nothing was planned over them, and the
tracking switches; everything else is refused at once, before any data is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from safetensors.torch import load_file

import domainfit
from domainfit.cli import main
from domainfit.config_io import dump_config, load_config
from domainfit.errors import ConfigError
from tests.faults.tiny_run import config, no_data_loading, write_config


def _run_folder(tmp: Path, cfg: dict[str, Any]) -> Path:
    """A run folder as fit starts it: refusals need nothing trained."""
    run = tmp / "run"
    run.mkdir()
    (run / "config.yaml").write_text(dump_config(load_config(cfg)))
    return run


def _saved(run: Path) -> dict[str, Any]:
    saved: dict[str, Any] = yaml.safe_load((run / "config.yaml").read_text())
    return saved


def test_a_changed_learning_rate_is_refused_before_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run_folder(tmp_path, config(tmp_path))
    before = (run / "config.yaml").read_text()
    no_data_loading(monkeypatch)
    with pytest.raises(ConfigError, match="--set changes train.lr of .*may change only"):
        domainfit.fit(resume=run, overrides=["train.lr=0.5"])
    capsys.readouterr()
    assert main(["fit", "--resume", str(run), "--set", "train.lr=0.5", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "train.epochs (upwards), track.enabled and track.report" in err and "\n" not in err
    assert (run / "config.yaml").read_text() == before


@pytest.mark.parametrize(
    ("train", "said"),
    [
        ({"schedule": "linear"}, "train.schedule=linear spreads the learning rate"),
        ({"schedule": "cosine"}, "train.schedule=cosine spreads the learning rate"),
        ({"warmup_ratio": 0.1}, "train.warmup_ratio is a share of all steps"),
    ],
)
def test_more_epochs_are_refused_where_something_was_planned_over_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, train: dict[str, Any], said: str
) -> None:
    run = _run_folder(tmp_path, config(tmp_path, **train))
    no_data_loading(monkeypatch)
    with pytest.raises(ConfigError, match=f"cannot grow from 2 to 4 .*: {said}"):
        domainfit.fit(resume=run, overrides=["train.epochs=4"])
    assert _saved(run)["train"]["epochs"] == 2


def test_fewer_epochs_and_a_grown_k_fold_run_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_data_loading(monkeypatch)
    run = _run_folder(tmp_path, config(tmp_path))
    with pytest.raises(ConfigError, match=r"cannot shrink .*\(2 -> 1\)"):
        domainfit.fit(resume=run, overrides=["train.epochs=1"])
    kfold = config(tmp_path)
    kfold["split"] = {"method": "kfold", "k": 2}
    (run / "config.yaml").write_text(dump_config(load_config(kfold)))
    with pytest.raises(ConfigError, match="finished folds of this k-fold run trained fewer"):
        domainfit.fit(resume=run, overrides=["train.epochs=3"])


def test_a_config_given_with_resume_must_match_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(tmp_path)
    run = _run_folder(tmp_path, cfg)
    no_data_loading(monkeypatch)
    same = write_config(tmp_path, cfg)
    with pytest.raises(AssertionError, match="data was loaded"):  # accepted: training starts
        domainfit.fit(same, resume=run)
    other = write_config(tmp_path, {**cfg, "train": {**cfg["train"], "lr": 0.5}}, "other.yaml")
    with pytest.raises(ConfigError, match=f"{other} changes train.lr of {run}"):
        domainfit.fit(other, resume=run)
    with pytest.raises(ConfigError, match="--out does not apply to --resume"):
        domainfit.fit(resume=run, out=tmp_path / "elsewhere")


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "model" / "model.safetensors"))


def test_more_epochs_train_on_as_if_planned_and_are_recorded(tmp_path: Path) -> None:
    """A finished run (its last checkpoint kept) given one more epoch ends exactly where a run
    of three epochs does; config.yaml and MLflow say 3, MLflow's param keeping the first 2."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    track = {"enabled": True, "report": False, "uri": uri, "experiment": "faults"}
    ref = domainfit.fit(
        {**config(tmp_path, epochs=3), "track": {"enabled": False}}, out=tmp_path / "ref"
    )
    run = domainfit.fit({**config(tmp_path), "track": track}, out=tmp_path / "run").dir
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2

    domainfit.fit(resume=run, overrides=["train.epochs=3"])
    assert _saved(run)["train"]["epochs"] == 3
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3
    got, want = _weights(run), _weights(ref.dir)
    assert all(torch.equal(got[k], want[k]) for k in want)
    client = mlflow.MlflowClient(uri)
    (only,) = client.search_runs([client.get_experiment_by_name("faults").experiment_id])
    assert only.info.status == "FINISHED"
    assert only.data.params["train.epochs"] == "2"
    assert only.data.tags["resumed.train.epochs"] == "3"
