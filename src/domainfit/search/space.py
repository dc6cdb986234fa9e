"""A sweep's search space: sampling a trial's parameters, enumerating the exhaustive grid, and
writing the chosen values into a run config."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from domainfit.config_io import set_path
from domainfit.config_sweep import ParamSpec, Scalar, SweepConfig


def active(spec: ParamSpec, chosen: dict[str, Any]) -> bool:
    """A conditional parameter exists only when every parameter it names took a wanted value
    (a parameter that is itself inactive takes none)."""
    for other, wanted in spec.when.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if other not in chosen or chosen[other] not in values:
            return False
    return True


def suggest(trial: Any, sweep: SweepConfig) -> dict[str, Any]:
    """The trial's value of every active parameter, asked of Optuna in dependency order."""
    chosen: dict[str, Any] = {}
    for name in sweep.ordered():
        spec = sweep.params[name]
        if not active(spec, chosen):
            continue
        if spec.choice is not None:
            chosen[name] = trial.suggest_categorical(name, spec.choice)
        elif spec.integer is not None:
            chosen[name] = trial.suggest_int(name, *spec.integer)
        elif spec.log_uniform is not None:
            chosen[name] = trial.suggest_float(name, *spec.log_uniform, log=True)
        else:
            assert spec.uniform is not None
            chosen[name] = trial.suggest_float(name, *spec.uniform)
    return chosen


def grid_values(spec: ParamSpec, points: int) -> list[Scalar]:
    """The values an exhaustive grid tries: the given ``grid``, every choice, or ``points``
    spread evenly over the range (geometrically for log_uniform)."""
    if spec.grid is not None:
        return list(spec.grid)
    if spec.choice is not None:
        return list(spec.choice)
    if spec.log_uniform is not None:
        return [float(f"{v:.4g}") for v in np.geomspace(*spec.log_uniform, points)]
    if spec.integer is not None:
        lo, hi = spec.integer
        return sorted({round(float(v)) for v in np.linspace(lo, hi, points)})
    assert spec.uniform is not None
    return [float(f"{v:.4g}") for v in np.linspace(*spec.uniform, points)]


def extend(
    combos: list[dict[str, Any]],
    name: str,
    spec: ParamSpec,
    values: list[Scalar],
    limit: int | None = None,
) -> list[dict[str, Any]] | None:
    """``combos`` times ``values`` of ``name``, only where the parameter is active: a
    conditional parameter multiplies nothing else, so no two combinations are the same.
    None as soon as there would be more than ``limit``."""
    grown: list[dict[str, Any]] = []
    for combo in combos:
        if active(spec, combo):
            grown.extend({**combo, name: v} for v in values)
        else:
            grown.append(combo)
        if limit is not None and len(grown) > limit:
            return None
    return grown


def grid(sweep: SweepConfig) -> list[dict[str, Any]]:
    """Every combination of grid values (see ``extend``)."""
    combos: list[dict[str, Any]] = [{}]
    for name in sweep.ordered():
        spec = sweep.params[name]
        grown = extend(combos, name, spec, grid_values(spec, sweep.grid_points))
        assert grown is not None  # no limit
        combos = grown
    return combos


def with_params(raw: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A copy of the raw config with each dotted parameter set."""
    out = copy.deepcopy(raw)
    for name, value in params.items():
        set_path(out, name, value, origin="sweep.params.")
    return out


def representative(sweep: SweepConfig) -> list[dict[str, Any]]:
    """Few parameter sets that together try every parameter with its first and last grid
    value: enough to check, before anything runs, that each path and value is a valid config."""
    ends = {n: grid_values(s, 2) for n, s in sweep.params.items()}
    picks = []
    for i in (0, -1):
        chosen: dict[str, Any] = {}
        for name in sweep.ordered():
            spec = sweep.params[name]
            if spec.when:  # make its conditions true so it is checked too
                for other, wanted in spec.when.items():
                    chosen[other] = wanted[0] if isinstance(wanted, list) else wanted
            chosen[name] = ends[name][i]
        picks.append(chosen)
    return picks
