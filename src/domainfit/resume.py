"""What ``fit --resume RUN`` may change, checked (with the checkpoint itself) before any data
is read, so a refused or impossible resume fails in seconds.

A resume continues a checkpoint trained under the run's config.yaml, so most keys cannot
change: a new ``train.lr`` would describe a run that never happened. These can:

* ``train.epochs``, upwards: training longer is a real need. Only when nothing already
  trained was planned over the number of epochs: ``train.schedule`` constant, step, multistep
  or exponential, no ``train.warmup_ratio`` and no adaptation (linear, cosine, onecycle and
  inverse spread the learning rate over all epochs, and adaptation ramps its weights, pseudo
  labels and gradient reversal over them). The extended run then trains exactly as a run
  started with the larger number would have.
* ``track.enabled`` and ``track.report``: whether this invocation is tracked and reported.

Changes come from ``--set`` or from a config file given with ``--resume`` (which must match
the run's config apart from these keys). Accepted changes are written to the run's
config.yaml (atomically), and MLflow records them as tags ``resumed.<key>`` (it refuses to
change a param). A k-fold run cannot grow: its finished folds would have trained less.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainfit.config import RunConfig
from domainfit.config_io import ConfigLike, dump_config, load_config
from domainfit.errors import ConfigError
from domainfit.io_utils import write_text_atomic

CHANGEABLE = ("train.epochs", "track.enabled", "track.report")
EXTENSIBLE_SCHEDULES = ("constant", "step", "multistep", "exponential")
_CAN_CHANGE = "a resume may change only train.epochs (upwards), track.enabled and track.report"


def resume_config(
    run_dir: Path, config: ConfigLike | None, overrides: list[str] | None
) -> RunConfig:
    """The config to resume ``run_dir`` with: its own, changed only as allowed; the run's
    checkpoint is checked too. Raises ``ConfigError`` or ``DataError`` before any data loads."""
    saved = load_config(run_dir / "config.yaml")
    wanted = load_config(config if config is not None else run_dir / "config.yaml", overrides)
    changed = _changed(saved.model_dump(mode="json"), wanted.model_dump(mode="json"))
    source = "--set" if config is None else _named(config)
    refused = [k for k in changed if k not in CHANGEABLE]
    if refused:
        more = f" and {len(refused) - 4} more" if len(refused) > 4 else ""
        shown = ", ".join(refused[:4]) + more
        raise ConfigError(
            f"{source} changes {shown} of {run_dir}, but its checkpoint was trained with "
            f"{run_dir / 'config.yaml'}",
            f"{_CAN_CHANGE}; start a new run for other changes",
        )
    if "train.epochs" in changed:
        _check_more_epochs(saved, wanted, run_dir)
    check_checkpoints(run_dir)
    if changed:
        from domainfit.train.distributed import is_main

        if is_main():
            for folder in _config_folders(run_dir):
                write_text_atomic(folder / "config.yaml", dump_config(wanted))
    return wanted


def check_checkpoints(run_dir: Path) -> None:
    """Read the checkpoint a resume would load (each unfinished fold's, for k-fold runs): a
    damaged one is skipped with a warning, none intact raises ``DataError``."""
    from domainfit.train.checkpoint import resume_point

    for folder in _unfinished(run_dir):
        resume_point(folder / "checkpoints")


def _check_more_epochs(saved: RunConfig, wanted: RunConfig, run_dir: Path) -> None:
    before, after = saved.train.epochs, wanted.train.epochs
    if after < before:
        raise ConfigError(
            f"train.epochs cannot shrink when resuming {run_dir} ({before} -> {after})",
            "keep train.epochs, or start a new run with fewer epochs",
        )
    t = saved.train
    planned = None
    if t.schedule not in EXTENSIBLE_SCHEDULES:
        planned = f"train.schedule={t.schedule} spreads the learning rate over all epochs"
    elif t.warmup_ratio > 0:
        planned = "train.warmup_ratio is a share of all steps"
    elif saved.adapt.enabled:
        planned = "adaptation ramps its schedules over all epochs"
    elif saved.split.method == "kfold":
        planned = "the finished folds of this k-fold run trained fewer"
    if planned is not None:
        raise ConfigError(
            f"train.epochs cannot grow from {before} to {after} when resuming {run_dir}: {planned}",
            f"start a new run with train.epochs={after} (only runs with train.schedule "
            f"{', '.join(EXTENSIBLE_SCHEDULES)}, no warmup_ratio and no adaptation can grow)",
        )


def _changed(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ; a section present on one side only counts as one."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = list(before) + [k for k in after if k not in before]
        found: list[str] = []
        for key in keys:
            found += _changed(before.get(key), after.get(key), f"{prefix}{key}.")
        return found
    return [] if before == after else [prefix.rstrip(".")]


def _named(config: ConfigLike) -> str:
    return str(config) if isinstance(config, str | Path) else "the config given"


def _unfinished(run_dir: Path) -> list[Path]:
    """The folders a resume continues: the run, or its k-fold children not finished yet."""
    folds = run_dir / "folds"
    if not folds.is_dir():
        return [run_dir]
    return [p for p in sorted(folds.glob("fold-*")) if not (p / "run.json").is_file()]


def _config_folders(run_dir: Path) -> list[Path]:
    started = [p for p in _unfinished(run_dir) if (p / "config.yaml").is_file()]
    return [run_dir, *(p for p in started if p != run_dir)]
