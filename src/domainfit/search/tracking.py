"""The sweep's own MLflow run: the parent every trial's run is nested under."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainfit.config import RunConfig


def _client(cfg: RunConfig) -> Any:
    import logging

    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    uri = cfg.track.uri
    if uri.startswith("sqlite:///"):  # SQLite creates the file, not its folder
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return MlflowClient(uri)


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
