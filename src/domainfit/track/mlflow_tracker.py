"""Mirror a run into MLflow: flattened config, per-epoch metrics, final metrics, artifacts,
split fingerprints, the git commit and package versions. Embedded SQLite by default: no server.

A resumed run continues the same MLflow run (its id is kept in the run folder).
"""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from domainfit.config import TrackConfig
from domainfit.track.store import opening

RUN_ID_FILE = "mlflow_run_id"
_PACKAGES = ("domainfit", "torch", "transformers", "accelerate", "timm", "scikit-learn", "mlflow")


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): str(data)}


def fingerprint(ids: list[str]) -> str:
    """A short hash of a split's sample ids: equal fingerprints mean the same samples."""
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:16]


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[f"version.{name}"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def artifact_folder(cfg: TrackConfig) -> Path | None:
    """Where a new experiment keeps its artifacts: ``track.artifacts``, else beside a SQLite
    store (runs/mlflow.db -> runs/mlartifacts). MLflow's default, ./mlruns in whatever folder
    the command ran from, scatters them outside runs/."""
    if cfg.artifacts:
        return Path(cfg.artifacts).resolve()
    if cfg.uri.startswith("sqlite:///"):
        return Path(cfg.uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts"
    return None  # a file store or a server decides for itself


def _create_experiment(mlflow: Any, cfg: TrackConfig) -> None:
    folder = artifact_folder(cfg)
    client = mlflow.MlflowClient()
    if folder is None or client.get_experiment_by_name(cfg.experiment) is not None:
        return
    try:
        client.create_experiment(cfg.experiment, artifact_location=folder.as_uri())
    except mlflow.exceptions.MlflowException:
        if client.get_experiment_by_name(cfg.experiment) is None:  # not a lost race: real
            raise


class Tracker:
    """Nothing happens when tracking is off; every call is then a no-op. Off too in every
    process but rank 0 of a data-parallel run: one run, tracked once."""

    def __init__(self, cfg: TrackConfig, run_dir: Path, run_name: str) -> None:
        from domainfit.train.distributed import is_main

        self.enabled = cfg.enabled and is_main()
        self.run_dir = run_dir
        if not self.enabled:
            return
        import logging

        import mlflow

        logging.getLogger("mlflow").setLevel(logging.WARNING)  # keep the terminal for results
        self.mlflow = mlflow
        mlflow.set_tracking_uri(cfg.uri)
        # one process at a time creates and migrates a fresh store; the others wait, then find
        # it ready (MLflow caches the opened store per process, so later calls skip the lock)
        with opening(cfg.uri):
            _create_experiment(mlflow, cfg)
            mlflow.set_experiment(cfg.experiment)
        id_file = run_dir / RUN_ID_FILE
        run_id = id_file.read_text().strip() if id_file.is_file() else None
        self.run = mlflow.start_run(run_id=run_id, run_name=None if run_id else run_name)
        id_file.write_text(self.run.info.run_id + "\n")

    def log_start(self, config: dict[str, Any], splits: dict[str, list[str]]) -> None:
        if not self.enabled:
            return
        # a resumed run may have changed a few keys (domainfit.resume); MLflow refuses to change
        # a param, so the param keeps the first value and tag resumed.<key> holds the new one
        logged = self.mlflow.get_run(self.run.info.run_id).data.params
        params = {k: v for k, v in flatten(config).items() if k not in logged}
        changed = {f"resumed.{k}": v for k, v in flatten(config).items() if logged.get(k, v) != v}
        items = list(params.items())
        for i in range(0, len(items), 100):  # MLflow limits a batch's size
            self.mlflow.log_params(dict(items[i : i + 100]))
        tags = {"git_commit": git_commit(), "run_dir": str(self.run_dir), **versions(), **changed}
        tags.update({f"split.{k}": fingerprint(v) for k, v in splits.items()})
        self.mlflow.set_tags(tags)

    def log_epochs(self, history: list[dict[str, float]]) -> None:
        if not self.enabled:
            return
        for row in history:
            step = int(row.get("epoch", 0))
            self.mlflow.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=step)

    def finish(self, metrics: dict[str, float], status: str = "FINISHED") -> None:
        if not self.enabled:
            return
        self.mlflow.log_metrics({f"final.{k}": v for k, v in metrics.items()})
        for name in ("config.yaml", "metrics.json", "model/model.json"):
            path = self.run_dir / name
            if path.is_file():
                self.mlflow.log_artifact(str(path))
        self.mlflow.end_run(status=status)
