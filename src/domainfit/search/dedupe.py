"""No parameter set runs twice in one study, however often the sweep is restarted.

A restarted sweep gets a sampler seeded from the study's size, so it does not replay the
draws of the run before it. A set drawn anyway (a small categorical space, a sampler settled
on one region) becomes an uncounted failed trial marked ``duplicate_of`` instead of training
again, and, in a finite space, the next trial is queued with a set not yet tried. A finite
space whose every set has been tried ends the sweep early, with a warning.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from domainfit.config_sweep import Scalar, SweepConfig
from domainfit.search.space import extend
from domainfit.search.storage import WORKER_ATTR, counted

DUPLICATE_ATTR = "duplicate_of"
# enumerating a larger finite space costs more than the rare duplicate it would prevent
MAX_POINTS = 10_000
STALL_AFTER = 20  # duplicates in a row: the sampler has nothing new to propose


class SweepShortWarning(UserWarning):
    """The sweep ended before its budget: nothing new was left to try."""


def sampler_seed(seed: int, worker: int, trials: int) -> int:
    """Distinct per worker and per study size: a restart draws anew, a fresh sweep is
    reproducible."""
    state = np.random.SeedSequence([seed, worker, trials]).generate_state(1)
    return int(state[0])


def space_points(sweep: SweepConfig) -> list[dict[str, Any]] | None:
    """Every parameter set a sampler can draw, when there are at most ``MAX_POINTS`` and no
    float parameter; else None."""
    combos: list[dict[str, Any]] = [{}]
    for name in sweep.ordered():
        spec = sweep.params[name]
        values: list[Scalar]
        if spec.choice is not None:
            values = list(spec.choice)
        elif spec.integer is not None:
            lo, hi = spec.integer
            if hi - lo + 1 > MAX_POINTS:
                return None
            values = list(range(lo, hi + 1))
        else:
            return None
        grown = extend(combos, name, spec, values, MAX_POINTS)
        if grown is None:
            return None
        combos = grown
    return combos


def _key(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(params.items()))


def _taken(t: FrozenTrial) -> bool:
    """Its parameters are spoken for: it ran, or a worker is running it."""
    return counted(t) or (t.state == TrialState.RUNNING and WORKER_ATTR in t.user_attrs)


def tried(study: optuna.Study) -> set[tuple[tuple[str, Any], ...]]:
    return {_key(t.params) for t in study.get_trials(deepcopy=False) if _taken(t) and t.params}


def duplicate_of(trial: optuna.Trial, params: dict[str, Any]) -> int | None:
    """The trial that already has these parameters: any that ran, or an earlier running one
    (of two workers that drew the same set at once, the later trial gives way)."""
    key = _key(params)
    for t in trial.study.get_trials(deepcopy=False):
        if t.number == trial.number or not _taken(t) or _key(t.params) != key:
            continue
        if counted(t) or t.number < trial.number:
            return t.number
    return None


def untried(study: optuna.Study, points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = tried(study)
    return [p for p in points if _key(p) not in done]


def queue_untried(study: optuna.Study, points: list[dict[str, Any]], seed: int) -> bool:
    """Queue one set not yet tried, drawn at random; False when none is left."""
    left = untried(study, points)
    if not left:
        return False
    study.enqueue_trial(random.Random(seed).choice(left), skip_if_exists=True)
    return True


def why_short(study: optuna.Study, sweep: SweepConfig, budget: int) -> str | None:
    """Why the sweep stopped short of its budget: its finite space is used up, or the sampler
    proposed nothing new ``STALL_AFTER`` times in a row."""
    trials = study.get_trials(deepcopy=False)
    done = sum(counted(t) for t in trials)
    if done >= budget:
        return None
    end = f"the sweep stops after {done} of {budget} trials"
    points = space_points(sweep)
    if points is not None and not untried(study, points):
        return (
            f"all {len(points)} parameter sets of the sweep space have been tried; {end} "
            "(widen sweep.params to search further)"
        )
    last = trials[-STALL_AFTER:]
    if len(last) == STALL_AFTER and all(DUPLICATE_ATTR in t.user_attrs for t in last):
        return (
            f"the sampler proposed only parameter sets already tried, {STALL_AFTER} in a row; "
            f"{end} (widen sweep.params, or use sampler: random)"
        )
    return None
