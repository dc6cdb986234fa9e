"""``domainfit.sweep``: plan, run (here or in worker processes), then summarise."""

from __future__ import annotations

import time
from pathlib import Path

from domainfit.config_io import ConfigLike, load_config
from domainfit.errors import ConfigError
from domainfit.search.procs import SweepLock
from domainfit.search.sweep import SweepResult, finish, plan_sweep, prepare_folder, run_sweep


def sweep(
    config: ConfigLike,
    *,
    trials: int | None = None,
    storage: str | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    overrides: list[str] | None = None,
    worker_index: int | None = None,
    report_only: bool = False,
    quiet: bool = False,
    base_dir: Path | None = None,
) -> SweepResult | None:
    """Search the config's ``sweep.params`` for the best ``sweep.metric``. Running the same call
    again resumes the study; ``storage`` (a database URL) lets workers on other machines join.
    ``worker_index`` marks a worker process (it writes no summary and returns None).
    ``base_dir``: where a dict config's relative data paths start (a file's own folder else)."""
    started = time.perf_counter()
    if isinstance(config, str | Path):
        base_dir = Path(config).parent
    cfg = load_config(config, overrides)
    out_dir = Path(out) if out is not None else Path("runs") / f"sweep-{cfg.name}"
    plan = plan_sweep(cfg, base_dir, out_dir, trials=trials, storage=storage, workers=workers)
    if report_only:
        if not (out_dir / "sweep.yaml").is_file():
            raise ConfigError(f"{out_dir} holds no sweep", "check --out")
        return finish(plan, started)
    if worker_index is None:
        from domainfit.data.pipeline import clean_and_split, load_domains

        clean_and_split(load_domains(cfg, base_dir), cfg)  # data errors now, not in every trial
    prepare_folder(plan)
    if worker_index is not None:  # a worker shares its coordinator's lock
        run_sweep(plan, worker=worker_index, quiet=quiet)
        return None
    # one coordinator per sweep folder: a rerun waits for (or refuses) a live earlier one
    with SweepLock(out_dir) as lock:
        run_sweep(plan, quiet=quiet, lock=lock)
        return finish(plan, started)
