"""The sweep section and its search space: validation, conditional sampling, the grid."""

from __future__ import annotations

from typing import Any

import optuna
import pytest

from domainfit.config_io import load_config
from domainfit.config_sweep import SweepConfig
from domainfit.errors import ConfigError
from domainfit.search.space import grid, suggest, with_params

SPACE: dict[str, Any] = {
    "metric": "target_val.f1_macro",
    "params": {
        "train.lr": {"log_uniform": [1e-5, 1e-3]},
        "strategy.lora.r": {"choice": [4, 8, 16], "when": {"strategy.name": "lora"}},
        "strategy.name": {"choice": ["linear_probe", "two_stage", "lora"]},
    },
}


def test_metric_spelling_direction_and_dependency_order() -> None:
    sweep = SweepConfig.model_validate(SPACE)
    assert sweep.metric == "target.val.f1_macro"
    assert sweep.maximize
    assert SweepConfig.model_validate({**SPACE, "metric": "source.val.loss"}).maximize is False
    order = sweep.ordered()
    assert order.index("strategy.name") < order.index("strategy.lora.r")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"train.lr": {"uniform": [0.1, 0.01]}}, "low < high"),
        ({"train.lr": {"log_uniform": [0.0, 1.0]}}, "positive lower bound"),
        ({"train.lr": {"uniform": [0, 1], "choice": [1]}}, "exactly one of"),
        ({"a": {"choice": [1], "when": {"b": 1}}}, "must be a choice parameter"),
        (
            {"a": {"choice": [1, 2], "when": {"b": 1}}, "b": {"choice": [1], "when": {"a": 1}}},
            "cycle",
        ),
        ({"a": {"choice": [1]}, "b": {"choice": [1], "when": {"a": 3}}}, "never takes"),
        ({"a": {"uniform": [0, 1], "grid": [2.0]}}, "outside its range"),
    ],
)
def test_bad_spaces_are_refused_with_the_reason(params: dict[str, Any], message: str) -> None:
    raw = {
        "data": {"source": "x.csv"},
        "sweep": {"metric": "source.val.accuracy", "params": params},
    }
    with pytest.raises(ConfigError, match=message):
        load_config(raw)


def test_conditional_parameter_only_sampled_when_its_condition_holds() -> None:
    sweep = SweepConfig.model_validate(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen_lora = seen_other = False
    for _ in range(30):
        trial = study.ask()
        params = suggest(trial, sweep)
        lora = params["strategy.name"] == "lora"
        assert ("strategy.lora.r" in params) == lora
        assert 1e-5 <= params["train.lr"] <= 1e-3
        seen_lora, seen_other = seen_lora or lora, seen_other or not lora
        study.tell(trial, 0.0)
    assert seen_lora and seen_other


def test_grid_expands_conditionals_without_duplicates() -> None:
    sweep = SweepConfig.model_validate({**SPACE, "grid_points": 2})
    points = grid(sweep)
    # lr: 2 values; strategies: 2 plain + lora x 3 ranks = 5 -> 10 combinations
    assert len(points) == 10
    assert len({tuple(sorted(p.items())) for p in points}) == 10
    assert {p["train.lr"] for p in points} == {1e-5, 1e-3}
    assert all(("strategy.lora.r" in p) == (p["strategy.name"] == "lora") for p in points)


def test_params_are_written_into_the_config_at_their_paths() -> None:
    raw = {"data": {"source": "x.csv"}, "model": {"backbone": "minilm"}}
    out = with_params(raw, {"train.lr": 3e-4, "strategy.name": "lora", "strategy.lora.r": 8})
    cfg = load_config(out)
    assert cfg.train.lr == 3e-4 and cfg.strategy.name == "lora" and cfg.strategy.lora.r == 8
    assert "train" not in raw  # the base config is not changed


class _AlwaysPrune:
    def __init__(self) -> None:
        self.reported: list[tuple[float, int]] = []

    def report(self, value: float, step: int) -> None:
        self.reported.append((value, step))

    def should_prune(self) -> bool:
        return True


def test_pruner_sees_the_metric_in_the_study_direction_and_never_stops_a_finished_trial() -> None:
    from domainfit.search.objective import PruneReporter

    sweep = SweepConfig.model_validate(
        {"metric": "target.val.accuracy", "params": {"train.lr": {"uniform": [0.1, 0.2]}}}
    )
    trial = _AlwaysPrune()
    reporter = PruneReporter(trial, sweep)  # type: ignore[arg-type]
    reporter.last_step = 1
    with pytest.raises(optuna.TrialPruned):
        reporter({"target.val.accuracy": 0.6, "val.loss": 0.5})
    reporter({"target.val.accuracy": 0.7})  # the last validation: scored, not pruned
    assert trial.reported == [(0.6, 0), (0.7, 1)]
    # a loss watched while maximising is negated, so "higher is better" holds for the pruner
    loss = PruneReporter(_AlwaysPrune(), sweep.model_copy(update={"prune_on": "val.loss"}))
    loss.last_step = 0
    loss({"val.loss": 0.25})
    assert loss.trial.reported == [(-0.25, 0)]  # type: ignore[attr-defined]
