"""The sweep's own MLflow run: the parent every trial's run is nested under."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainfit.config import RunConfig


def _client(cfg: RunConfig) -> Any:
    import logging

    from domainfit.track.store import open_client

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    return open_client(cfg.track.uri)  # locked: the sweep may be the first use of the store


def start_parent_run(cfg: RunConfig, out_dir: Path, budget: int) -> str:
    client = _client(cfg)
    found = client.get_experiment_by_name(cfg.track.experiment)
    exp_id = found.experiment_id if found else client.create_experiment(cfg.track.experiment)
    run = client.create_run(exp_id, run_name=f"{cfg.name}-sweep", tags={"sweep.dir": str(out_dir)})
    assert cfg.sweep is not None
    params = {"sweep.metric": cfg.sweep.metric, "sweep.sampler": cfg.sweep.sampler}
    params |= {"sweep.pruner": cfg.sweep.pruner, "sweep.trials": str(budget)}
    for name, spec in cfg.sweep.params.items():
        params[f"space.{name}"] = str(spec.model_dump(exclude_none=True, exclude_defaults=True))
    for key, value in params.items():
        client.log_param(run.info.run_id, key, value[:500])
    return str(run.info.run_id)


def finish_parent_run(
    cfg: RunConfig, run_id: str, best: float | None, counts: dict[str, int], files: list[Path]
) -> None:
    client = _client(cfg)
    if best is not None:
        client.log_metric(run_id, "best_value", best)
    for state, n in counts.items():
        client.log_metric(run_id, f"trials.{state}", n)
    for path in files:
        if path.is_file():
            client.log_artifact(run_id, str(path))
    client.set_terminated(run_id, "FINISHED")


TRIAL_TAG = "sweep.trial"
PARENT_TAG = "mlflow.parentRunId"  # what MLflow's UI nests runs by


def create_trial_run(cfg: RunConfig, parent_id: str, number: int) -> str:
    """The trial's MLflow run, created a child of the sweep's run before the trial trains (the
    trial's Tracker continues it), so even a trial killed at once is nested and findable."""
    from domainfit.track.mlflow_tracker import artifact_folder

    client = _client(cfg)
    found = client.get_experiment_by_name(cfg.track.experiment)
    if found is None:
        folder = artifact_folder(cfg.track)
        try:
            client.create_experiment(
                cfg.track.experiment, artifact_location=folder.as_uri() if folder else None
            )
        except Exception:  # another worker created it first
            if client.get_experiment_by_name(cfg.track.experiment) is None:
                raise
        found = client.get_experiment_by_name(cfg.track.experiment)
    tags = {PARENT_TAG: parent_id, TRIAL_TAG: str(number)}
    run = client.create_run(found.experiment_id, run_name=cfg.name, tags=tags)
    return str(run.info.run_id)


def end_if_running(cfg: RunConfig, run_id: str, status: str, parent_id: str | None = None) -> bool:
    """End a run its own process left open (it died, or failed before training); with
    ``parent_id``, nest it too (runs made before trials were nested at creation)."""
    from mlflow.exceptions import MlflowException

    client = _client(cfg)
    try:
        run = client.get_run(run_id)
    except MlflowException:
        return False  # deleted, or in another store
    if parent_id and PARENT_TAG not in run.data.tags:
        client.set_tag(run_id, PARENT_TAG, parent_id)
    if run.info.status != "RUNNING":
        return False
    client.set_terminated(run_id, status)
    return True


def close_dead_trial_runs(cfg: RunConfig, parent_id: str, finished: set[int]) -> list[str]:
    """KILLED for every child run still RUNNING whose Optuna trial has ended: its worker died
    (the trial was failed by recovery or by Optuna's heartbeat) before it could end the run."""
    client = _client(cfg)
    found = client.get_experiment_by_name(cfg.track.experiment)
    if found is None:
        return []
    query = f"tags.`{PARENT_TAG}` = '{parent_id}' and attributes.status = 'RUNNING'"
    closed = []
    for run in client.search_runs([found.experiment_id], filter_string=query):
        number = run.data.tags.get(TRIAL_TAG)
        if number is not None and number.isdigit() and int(number) in finished:
            client.set_terminated(run.info.run_id, "KILLED")
            closed.append(str(run.info.run_id))
    return closed
