"""``domainfit sweep``: an Optuna study over strategies and hyperparameters, run by one or more
workers on one storage, resumable after any interruption, summarised in its folder.

The sweep folder holds ``sweep.yaml`` (the whole config, data paths made absolute, which the
workers read), ``study.db`` (unless ``--storage`` names another database),
``trials/`` (one run folder per trial) and, when the sweep ends, ``trials.json``,
``leaderboard.csv``, ``best.yaml`` and ``sweep.html``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial
from pydantic import ValidationError

from domainfit.config import RunConfig
from domainfit.config_io import load_config
from domainfit.config_sweep import SweepConfig
from domainfit.data import benchmarks
from domainfit.data.load import resolve_path
from domainfit.errors import ConfigError, DataError
from domainfit.io_utils import write_text_atomic
from domainfit.search import storage as st
from domainfit.search.dedupe import SweepShortWarning, sampler_seed, untried, why_short
from domainfit.search.objective import Objective, TrialContext
from domainfit.search.procs import SweepLock, die_with_parent, start_workers, stop_workers
from domainfit.search.recovery import close_dead_runs, dead_trial_hook, recover
from domainfit.search.space import grid, representative, with_params

CONFIG_ATTR = "config_sha"  # the study remembers which config it searches
GRID_ATTR = "grid_enqueued"
PARENT_ATTR = "mlflow_parent_run"


@dataclass
class SweepResult:
    dir: Path
    storage: str
    metric: str
    best_value: float | None
    best_params: dict[str, Any]
    best_config: Path | None
    report: Path | None
    counts: dict[str, int]
    seconds: float


@dataclass
class SweepPlan:
    cfg: RunConfig
    sweep: SweepConfig
    raw: dict[str, Any]  # base config, absolute data paths, no sweep section
    out_dir: Path
    storage: str
    budget: int
    workers: int


def plan_sweep(
    cfg: RunConfig,
    base_dir: Path | None,
    out_dir: Path,
    *,
    trials: int | None,
    storage: str | None,
    workers: int,
) -> SweepPlan:
    """Check everything a sweep needs before anything is written: the sweep section, that each
    parameter path and value makes a valid config, the metric's split, the data."""
    if cfg.sweep is None:
        raise ConfigError(
            "the config has no sweep section",
            "add sweep: {metric: target.val.accuracy, params: {train.lr: {log_uniform: "
            "[1.0e-5, 1.0e-3]}}}",
        )
    if workers < 1:
        raise ConfigError(f"--workers {workers} must be at least 1", "use --workers 1 or more")
    sweep = cfg.sweep
    raw = absolute_paths(cfg.model_dump(mode="json", exclude={"sweep"}), base_dir)
    for params in representative(sweep):
        try:
            load_config(with_params(raw, params))
        except ConfigError as err:
            raise ConfigError(f"sweep.params {params}: {err.message}", err.fix) from None
    if sweep.metric.startswith("target.") and cfg.data.target is None:
        raise ConfigError(
            f"sweep.metric {sweep.metric} names the target, but data.target is not set",
            "set data.target, or a source metric such as source.val.accuracy",
        )
    budget = len(grid(sweep)) if sweep.sampler == "grid" else trials or sweep.trials
    if budget < 1:
        raise ConfigError(f"--trials {budget} must be at least 1", "use --trials 1 or more")
    if storage is not None:
        st.check_storage(storage)  # a bad URL or a server that cannot be reached: now
    url = storage or st.default_storage(out_dir)
    return SweepPlan(cfg, sweep, raw, out_dir, url, budget, workers)


def absolute_paths(raw: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """Data paths relative to the config's folder become absolute."""
    out = copy.deepcopy(raw)
    for role in ("source", "target"):
        spec = out.get("data", {}).get(role)
        if not isinstance(spec, dict) or benchmarks.is_named(spec["spec"]):
            continue
        try:
            spec["spec"] = str(resolve_path(spec["spec"], base_dir).resolve())
        except DataError:
            continue  # reported with its fix when the data is loaded
    return out


def config_sha(raw: dict[str, Any], sweep: SweepConfig) -> str:
    """What makes two sweeps the same study: the base config and the space (not the budget).
    Only values that differ from the defaults count, so a domainfit that gained a config field
    still resumes a sweep an older one began."""
    try:
        config = RunConfig.model_validate(raw).model_dump(mode="json", exclude_defaults=True)
    except ValidationError:
        config = raw  # a config this version cannot read: it cannot be the same sweep
    space = sweep.model_dump(mode="json", exclude={"trials"}, exclude_defaults=True)
    text = json.dumps({"config": config, "space": space}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def open_study(plan: SweepPlan, worker: int = 0) -> optuna.Study:
    sweep = plan.sweep
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Optuna calls group=True and heartbeats experimental; they are what we want
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    storage = st.open_storage(plan.storage)
    # parallel TPE workers must not propose in lockstep, nor a restart replay the last run's draws
    seed = sampler_seed(plan.cfg.seed, worker, _trials_so_far(storage, plan.cfg.name))
    sampler: optuna.samplers.BaseSampler
    if sweep.sampler == "tpe":
        sampler = optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=sweep.startup_trials,
            multivariate=True,
            group=True,  # conditional parameters are modelled in their own subspaces
            constant_liar=plan.workers > 1,
        )
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    pruner: optuna.pruners.BasePruner
    epochs = plan.cfg.train.epochs * max(1, len(sweep.seeds))
    if sweep.pruner == "hyperband":
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(2, epochs))
    elif sweep.pruner == "median":
        # the first epochs of a slow-starting (small learning rate) trial say little yet
        warmup = max(1, epochs // 5)
        pruner = optuna.pruners.MedianPruner(sweep.startup_trials, n_warmup_steps=warmup)
    else:
        pruner = optuna.pruners.NopPruner()
    study = optuna.create_study(
        study_name=plan.cfg.name,
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        direction="maximize" if sweep.maximize else "minimize",
        load_if_exists=True,
    )
    sha = config_sha(plan.raw, sweep)
    known = study.user_attrs.get(CONFIG_ATTR)
    if known is None:
        study.set_user_attr(CONFIG_ATTR, sha)
    elif known != sha:
        raise ConfigError(
            f"study '{plan.cfg.name}' in {plan.storage} searches another config or space",
            "give this sweep another name (name: ...) or another --out/--storage",
        )
    return study


def _trials_so_far(storage: optuna.storages.RDBStorage, name: str) -> int:
    try:
        return storage.get_n_trials(storage.get_study_id_from_name(name))
    except KeyError:
        return 0


def prepare_folder(plan: SweepPlan) -> bool:
    """Create the sweep folder, or accept it as this sweep's to resume. True when resuming."""
    meta = plan.out_dir / "sweep.yaml"
    if plan.out_dir.exists():
        if not meta.is_file():
            raise ConfigError(
                f"{plan.out_dir} exists and is not a sweep folder", "choose another --out"
            )
        saved = yaml.safe_load(meta.read_text(encoding="utf-8")) or {}
        try:
            space = SweepConfig.model_validate(saved.pop("sweep"))
        except (KeyError, ValidationError):
            raise ConfigError(f"{meta} is not a sweep's config", "choose another --out") from None
        if config_sha(saved, space) != config_sha(plan.raw, plan.sweep):
            raise ConfigError(
                f"{plan.out_dir} holds a sweep of another config",
                "choose another --out, or delete that folder to start over",
            )
        return True
    plan.out_dir.mkdir(parents=True)
    doc = {**plan.raw, "sweep": plan.sweep.model_dump(mode="json")}
    write_text_atomic(meta, yaml.safe_dump(doc, sort_keys=False))
    return False


def run_sweep(
    plan: SweepPlan,
    *,
    worker: int | None = None,
    quiet: bool = False,
    lock: SweepLock | None = None,
) -> None:
    """Run trials until the budget is used. ``worker`` set: this process is one of
    ``--workers`` (the parent writes the results). Otherwise this process is the coordinator,
    holding the sweep's ``lock``: it closes what dead workers left, seeds the study (grid
    points, MLflow parent run) and runs the workers or itself works."""
    if worker is not None:
        die_with_parent()
    study = open_study(plan, worker or 0)
    storage = st.open_storage(plan.storage)
    parent = study.user_attrs.get(PARENT_ATTR)
    if worker is None:
        recover(plan.cfg, parent, study, storage)
        _seed_study(plan, study)
        parent = study.user_attrs.get(PARENT_ATTR)
    if worker is None and plan.workers > 1:
        assert lock is not None, "the coordinator holds the sweep's lock"
        _run_workers(plan, study, quiet, lock)
        _say_why_short(plan, study)
        return
    ctx = TrialContext(
        plan.raw,
        None,
        plan.sweep,
        plan.out_dir,
        plan.budget,
        parent,
        quiet=quiet,
    )
    work(study, storage, Objective(ctx), plan.budget, dead_trial_hook(plan.cfg, parent))
    if worker is None:
        _say_why_short(plan, study)


def work(
    study: optuna.Study,
    storage: Any,
    objective: Objective,
    budget: int,
    on_dead: Callable[[FrozenTrial], None] | None = None,
) -> None:
    from domainfit.progress import silenced

    with silenced():  # one line per trial; no per-epoch bars from inside trials
        while True:
            st.recover_local(study, storage, on_dead)
            if objective.stalled:
                return
            if objective.points is not None and not untried(study, objective.points):
                return  # every set tried or being tried: nothing new to run
            done, running, unclaimed = st.progress(study)
            if done + running >= budget:
                if not unclaimed:
                    return
                # a trial asked for but not claimed: another worker's, or an orphan that
                # recover_local fails within ORPHAN_S (then this worker runs its share)
                time.sleep(1.0)
                continue
            study.optimize(objective, n_trials=1, gc_after_trial=True)


def _seed_study(plan: SweepPlan, study: optuna.Study) -> None:
    if plan.sweep.sampler == "grid" and not study.user_attrs.get(GRID_ATTR):
        for params in grid(plan.sweep):
            study.enqueue_trial(params, skip_if_exists=True)
        study.set_user_attr(GRID_ATTR, True)
    if plan.cfg.track.enabled and PARENT_ATTR not in study.user_attrs:
        from domainfit.search.tracking import start_parent_run

        study.set_user_attr(PARENT_ATTR, start_parent_run(plan.cfg, plan.out_dir, plan.budget))


def _say_why_short(plan: SweepPlan, study: optuna.Study) -> None:
    """The coordinator warns when the sweep ended short of its budget with nothing new to try."""
    message = why_short(study, plan.sweep, plan.budget)
    if message:
        warnings.warn(message, SweepShortWarning, stacklevel=2)


def _run_workers(plan: SweepPlan, study: optuna.Study, quiet: bool, lock: SweepLock) -> None:
    """``--workers N``: N processes on the one storage; this one watches and waits. They die
    with it, and hold its lock until they have."""
    from rich.progress import Progress

    logs = plan.out_dir / "workers"
    logs.mkdir(exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // plan.workers)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(threads))}
    cmds = []
    for k in range(plan.workers):
        cmd = [sys.executable, "-m", "domainfit", "sweep", str(plan.out_dir / "sweep.yaml")]
        cmd += ["--out", str(plan.out_dir), "--storage", plan.storage]
        cmd += ["--trials", str(plan.budget), "--worker-index", str(k)]
        cmds.append(cmd)
    paths = [logs / f"worker-{k}.log" for k in range(plan.workers)]
    procs = start_workers(cmds, paths, lock, env)
    try:
        with Progress(disable=quiet, transient=True) as bar:
            task = bar.add_task(f"sweep, {plan.workers} workers", total=plan.budget)
            while any(p.poll() is None for p, _ in procs):
                bar.update(task, completed=st.progress(study)[0])
                time.sleep(1.0)
    finally:
        stop_workers(procs)  # none left after a normal end; all of them after Ctrl-C
    failed = [k for k, (p, _) in enumerate(procs) if p.returncode != 0]
    if failed:
        raise RuntimeError(
            f"sweep workers {failed} exited with an error; see {logs}/worker-<k>.log"
        )


def finish(plan: SweepPlan, started: float) -> SweepResult:
    """Write the sweep's results from the study (any worker's view is the whole study)."""
    from domainfit.search.results import write_results

    study = open_study(plan)
    summary = write_results(study, plan.raw, plan.out_dir, plan.sweep.metric)
    parent = study.user_attrs.get(PARENT_ATTR)
    best = summary["best"]
    close_dead_runs(plan.cfg, parent, study)  # e.g. failed by another host's heartbeat
    if parent and plan.cfg.track.enabled:
        from domainfit.search.tracking import finish_parent_run

        files = [plan.out_dir / n for n in ("sweep.html", "best.yaml", "leaderboard.csv")]
        value = best["value"] if best else None
        finish_parent_run(plan.cfg, parent, value, summary["counts"], files)
    return SweepResult(
        dir=plan.out_dir,
        storage=plan.storage,
        metric=plan.sweep.metric,
        best_value=best["value"] if best else None,
        best_params=best["params"] if best else {},
        best_config=Path(summary["best_config"]) if summary["best_config"] else None,
        report=Path(summary["report"]),
        counts=summary["counts"],
        seconds=round(time.perf_counter() - started, 2),
    )
