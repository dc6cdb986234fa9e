"""Closing what dead workers left open: their Optuna trials (failed and re-queued by
``storage.recover_local`` or Optuna's heartbeat) and their MLflow runs, which no process will
end any more. A trial's run is found by the ids the trial recorded, by the id file in its run
folder (runs of older versions, which were nested only when the trial ended) and by its tags.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial

from domainfit.config import RunConfig
from domainfit.search import storage as st
from domainfit.search.objective import MLFLOW_ATTR
from domainfit.track.mlflow_tracker import RUN_ID_FILE


def _run_ids(t: FrozenTrial) -> list[str]:
    ids = [str(i) for i in t.user_attrs.get(MLFLOW_ATTR, [])]
    run_dir = t.user_attrs.get(st.RUN_DIR_ATTR)
    if run_dir:  # a repeat-seed trial has one run per seed-<n>/ folder
        for path in sorted(Path(run_dir).glob(f"**/{RUN_ID_FILE}")):
            ids.append(path.read_text(encoding="utf-8").strip())
    return list(dict.fromkeys(i for i in ids if i))


def dead_trial_hook(cfg: RunConfig, parent_id: str | None) -> Callable[[FrozenTrial], None] | None:
    """What ``recover_local`` does with a dead worker's trial before deleting its folder: end
    its MLflow runs KILLED, nested under the sweep's run."""
    if not cfg.track.enabled or parent_id is None:
        return None

    def end_runs(t: FrozenTrial) -> None:
        from domainfit.search.tracking import end_if_running

        for run_id in _run_ids(t):
            end_if_running(cfg, run_id, "KILLED", parent_id)

    return end_runs


def close_dead_runs(cfg: RunConfig, parent_id: str | None, study: optuna.Study) -> list[str]:
    """End the sweep's child runs still RUNNING whose trial has ended (its worker died)."""
    if not cfg.track.enabled or parent_id is None:
        return []
    from domainfit.search.tracking import close_dead_trial_runs

    ended = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    return close_dead_trial_runs(cfg, parent_id, ended)


def recover(
    cfg: RunConfig, parent_id: str | None, study: optuna.Study, storage: RDBStorage
) -> None:
    """At a (re)start, before any trial: trials and runs of workers that died are closed."""
    st.recover_local(study, storage, dead_trial_hook(cfg, parent_id))
    close_dead_runs(cfg, parent_id, study)
