"""One sweep trial: the base config with the trial's parameters, trained like ``domainfit fit``
(once per repeat seed), reported to the pruner at every validation, scored by the sweep metric.

A trial that raises, diverges, runs out of memory or scores NaN is a failed trial with its
reason recorded; the sweep goes on. A missing metric is the config's fault: the sweep stops.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from rich.console import Console

from domainfit.config import RunConfig
from domainfit.config_io import load_config
from domainfit.config_sweep import SweepConfig
from domainfit.errors import ConfigError
from domainfit.search.dedupe import (
    DUPLICATE_ATTR,
    STALL_AFTER,
    duplicate_of,
    queue_untried,
    space_points,
)
from domainfit.search.space import suggest, with_params
from domainfit.search.storage import REASON_ATTR, RUN_DIR_ATTR, claim


@dataclass
class TrialContext:
    raw: dict[str, Any]  # the base config, sweep section removed
    base_dir: Path | None
    sweep: SweepConfig
    out_dir: Path
    budget: int
    parent_run_id: str | None  # the sweep's MLflow run; trials become its children
    quiet: bool = False


_err = Console(stderr=True)
MLFLOW_ATTR = "mlflow_runs"  # the trial's MLflow run ids, one per repeat seed


class Objective:
    def __init__(self, ctx: TrialContext) -> None:
        self.ctx = ctx
        quiet_deliberate_nans()
        self.points = space_points(ctx.sweep)  # None: too many to list, or continuous
        self.duplicates_in_row = 0

    @property
    def stalled(self) -> bool:
        return self.duplicates_in_row >= STALL_AFTER

    def __call__(self, trial: optuna.Trial) -> float:
        ctx = self.ctx
        if not claim(trial, ctx.budget):
            return math.nan  # surplus: failed, uncounted, never run
        params = suggest(trial, ctx.sweep)
        earlier = duplicate_of(trial, params)
        if earlier is not None:
            self._say(trial, params, f"tried in trial {earlier} already; not run again")
            return self._duplicate(trial, earlier)
        self.duplicates_in_row = 0
        run_dir = ctx.out_dir / "trials" / f"trial-{trial.number:04d}"
        trial.set_user_attr(RUN_DIR_ATTR, str(run_dir))
        if run_dir.exists():  # left by a run of the same number that never registered
            shutil.rmtree(run_dir)
        start = time.perf_counter()
        try:
            value = self._run(trial, params, run_dir)
        except optuna.TrialPruned:
            trial.set_user_attr("seconds", round(time.perf_counter() - start, 2))
            self._say(trial, params, "pruned")
            raise
        except MissingMetricError as err:
            trial.set_user_attr(REASON_ATTR, err.line())
            raise
        except ConfigError as err:  # a parameter value this config cannot use
            return self._failed(trial, params, err.line(), start)
        except Exception as err:  # any other trial failure is recorded, not fatal
            return self._failed(trial, params, failure_reason(err), start)
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 2))
        if math.isnan(value):
            return self._failed(trial, params, f"{ctx.sweep.metric} is NaN", start)
        self._say(trial, params, f"{ctx.sweep.metric} = {value:.4f}")
        return value

    def _run(self, trial: optuna.Trial, params: dict[str, Any], run_dir: Path) -> float:
        from domainfit.fit import run_fit

        ctx = self.ctx
        seeds = ctx.sweep.seeds or [None]
        values = []
        reporter = PruneReporter(trial, ctx.sweep)
        for i, seed in enumerate(seeds):
            cfg = trial_config(ctx, params, trial.number, seed)
            if cfg.train.eval_every_steps is None:  # one validation per epoch: the last is known
                reporter.last_step = cfg.train.epochs * len(seeds) - 1
            where = run_dir if seed is None else run_dir / f"seed-{seed}"
            reporter.repeat = i
            with NestedRun(cfg, ctx.parent_run_id, trial):
                run = run_fit(cfg, ctx.base_dir, where, resume=False, watch=reporter)
            values.append(metric_value(run.metrics, run.history, ctx.sweep.metric))
        return sum(values) / len(values)

    def _duplicate(self, trial: optuna.Trial, earlier: int) -> float:
        """Failed and uncounted: the budget goes to a set not tried yet."""
        trial.set_user_attr(DUPLICATE_ATTR, earlier)
        self.duplicates_in_row += 1
        if self.points is not None:  # steer the next trial to an untried set
            queue_untried(trial.study, self.points, seed=trial.number)
        return math.nan

    def _failed(
        self, trial: optuna.Trial, params: dict[str, Any], reason: str, start: float
    ) -> float:
        trial.set_user_attr(REASON_ATTR, reason)
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 2))
        self._say(trial, params, f"failed: {reason}")
        return math.nan

    def _say(self, trial: optuna.Trial, params: dict[str, Any], outcome: str) -> None:
        if not self.ctx.quiet:
            shown = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
            _err.print(f"trial {trial.number}: {shown} -> {outcome}", highlight=False, markup=False)


class _DeliberateNaN(logging.Filter):
    """Optuna warns of every NaN an objective returns; this one returns NaN on purpose (failed,
    surplus and duplicate trials) and says why itself, or keeps quiet for a surplus ask."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return "The value nan is not acceptable" not in text and "with value nan." not in text


def quiet_deliberate_nans() -> None:
    optimize_log = logging.getLogger("optuna.study._optimize")
    if not any(isinstance(f, _DeliberateNaN) for f in optimize_log.filters):
        optimize_log.addFilter(_DeliberateNaN())


class MissingMetricError(ConfigError):
    """The sweep metric is not among a finished trial's metrics."""


class PruneReporter:
    """Sees each validation row: reports the pruning metric and stops a trial the pruner
    judges hopeless. Steps count validations, continued across repeat seeds."""

    def __init__(self, trial: optuna.Trial, sweep: SweepConfig) -> None:
        self.trial, self.sweep = trial, sweep
        self.metric = sweep.prune_on
        self.repeat, self.step = 0, 0
        # a trial that has trained to its end is scored, not pruned: stopping it then saves no
        # compute and throws its value away
        self.last_step: int | None = None

    def __call__(self, row: dict[str, float]) -> None:
        metric = self.metric or _default_prune_metric(self.sweep.metric, row)
        if metric is None or metric not in row or not math.isfinite(row[metric]):
            return
        value = row[metric]
        # the pruner compares in the study's direction: a loss watched while maximising flips
        if _lower_is_better(metric) == self.sweep.maximize:
            value = -value
        self.trial.report(value, self.step)
        final = self.last_step is not None and self.step >= self.last_step
        self.step += 1
        if self.sweep.pruner != "none" and not final and self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after {self.step} validations")


def _lower_is_better(metric: str) -> bool:
    from domainfit.config_sweep import LOWER_IS_BETTER

    return metric.rsplit(".", 1)[-1] in LOWER_IS_BETTER


def _default_prune_metric(metric: str, row: dict[str, float]) -> str | None:
    """The accuracy (else the loss) of the split the sweep metric names, as the per-validation
    row spells it: ``target.val.*`` is watched as is, the source's val split as ``val.*``."""
    if metric in row:
        return metric
    split = metric.rsplit(".", 1)[0]
    prefix = "val" if split in ("source.val", "val") else split
    for name in (f"{prefix}.accuracy", f"{prefix}.loss"):
        if name in row:
            return name
    return None


def trial_config(
    ctx: TrialContext, params: dict[str, Any], number: int, seed: int | None
) -> RunConfig:
    raw = with_params(ctx.raw, params)
    raw["name"] = f"{raw.get('name', 'run')}-trial{number}"
    if seed is not None:
        raw["seed"] = seed
    raw.setdefault("track", {})["report"] = False  # `domainfit report DIR` writes one later
    return load_config(raw)


def metric_value(metrics: dict[str, float], history: list[dict[str, float]], name: str) -> float:
    if name in metrics:
        return float(metrics[name])
    if history and name in history[-1]:
        return float(history[-1][name])
    known = sorted(metrics)
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    raise MissingMetricError(
        f"sweep.metric {name} is not among the trial's metrics ({shown})",
        "set sweep.metric to one of them, e.g. target.val.accuracy",
    )


def failure_reason(err: BaseException) -> str:
    import torch

    if isinstance(err, torch.OutOfMemoryError | MemoryError):
        return "out of memory"
    text = getattr(err, "line", lambda: str(err))()
    first = (text or type(err).__name__).splitlines()[0]
    return f"{type(err).__name__}: {first}"[:300]


class NestedRun:
    """The trial's MLflow run, made a child of the sweep's run before training starts. The
    Tracker inside ``run_fit`` continues it (MLflow resumes the run MLFLOW_RUN_ID names); a
    run the trial leaves open, failing before training, is ended FAILED."""

    def __init__(self, cfg: RunConfig, parent_id: str | None, trial: optuna.Trial) -> None:
        self.cfg, self.parent_id, self.trial = cfg, parent_id, trial
        self.run_id: str | None = None

    def __enter__(self) -> NestedRun:
        if not self.cfg.track.enabled or self.parent_id is None:
            return self
        from domainfit.search.tracking import create_trial_run

        self.run_id = create_trial_run(self.cfg, self.parent_id, self.trial.number)
        known = self.trial.user_attrs.get(MLFLOW_ATTR, [])
        self.trial.set_user_attr(MLFLOW_ATTR, [*known, self.run_id])
        os.environ["MLFLOW_RUN_ID"] = self.run_id
        return self

    def __exit__(self, *exc: object) -> None:
        if self.run_id is None:
            return
        from domainfit.search.tracking import end_if_running

        os.environ.pop("MLFLOW_RUN_ID", None)  # MLflow drops it once used; not if unused
        end_if_running(self.cfg, self.run_id, "FAILED")


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
