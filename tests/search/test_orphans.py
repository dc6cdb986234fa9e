"""A trial asked for but never claimed (its worker died in between) must not hold the budget."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from domainfit.search import storage as st


def _study(tmp_path: Path) -> tuple[optuna.Study, optuna.storages.RDBStorage]:
    storage = st.open_storage(st.default_storage(tmp_path))
    return optuna.create_study(storage=storage, study_name="s"), storage


def test_young_unclaimed_trials_are_left_alone(tmp_path: Path) -> None:
    study, storage = _study(tmp_path)
    study.ask()  # another worker may claim it any moment
    assert st.recover_local(study, storage) == []
    assert st.progress(study) == (0, 1, 1)


def test_orphans_are_failed_uncounted_and_free_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study, storage = _study(tmp_path)
    orphan = study.ask()  # its worker was killed before claiming it
    live = study.ask()
    assert st.claim(live, budget=5)  # this process: alive, keeps its trial
    monkeypatch.setattr(st, "ORPHAN_S", 0)
    late = study.ask()
    # budget 2: without the orphan ahead, the live trial and this one both fit
    assert st.claim(late, budget=2)
    assert st.recover_local(study, storage) == [orphan.number]
    states = {t.number: t.state for t in study.get_trials()}
    assert states == {
        orphan.number: TrialState.FAIL,
        live.number: TrialState.RUNNING,
        late.number: TrialState.RUNNING,
    }
    assert not any(st.counted(t) for t in study.get_trials())
    assert len(study.get_trials()) == 3  # nothing re-queued: the orphan never ran
