"""The ``sweep:`` section: what ``domainfit sweep`` searches, by which metric, on what budget.

A parameter is a dotted config path (``train.lr``, ``strategy.name``, ``strategy.lora.r``) with
one distribution, optionally active only ``when`` other parameters take given values:

    params:
      train.lr: {log_uniform: [1.0e-5, 1.0e-3]}
      strategy.name: {choice: [linear_probe, two_stage, lora]}
      strategy.lora.r: {choice: [4, 8, 16], when: {strategy.name: lora}}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from domainfit.config_base import StrictModel

Scalar = bool | int | float | str | None
# metrics where lower is better: ``direction: auto`` minimises these
LOWER_IS_BETTER = ("loss", "log_loss", "ece", "mae", "rmse", "mse")


class ParamSpec(StrictModel):
    """Exactly one of ``log_uniform``, ``uniform``, ``integer``, ``choice``."""

    log_uniform: tuple[float, float] | None = None
    uniform: tuple[float, float] | None = None
    integer: tuple[int, int] | None = None
    choice: list[Scalar] | None = None
    grid: list[Scalar] | None = Field(
        None, description="values the exhaustive grid tries (default: sweep.grid_points, spread)"
    )
    when: dict[str, Scalar | list[Scalar]] = Field(
        default_factory=dict, description="active only when these parameters take these values"
    )

    @model_validator(mode="after")
    def _one_distribution(self) -> ParamSpec:
        given = [k for k in ("log_uniform", "uniform", "integer", "choice") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of log_uniform: [lo, hi], uniform: [lo, hi], integer: [lo, hi], "
                f"choice: [...] (got {', '.join(given) or 'none'})"
            )
        bounds = self.log_uniform or self.uniform or self.integer
        if bounds is not None and not bounds[0] < bounds[1]:
            raise ValueError(f"the range {list(bounds)} needs low < high")
        if self.log_uniform is not None and self.log_uniform[0] <= 0:
            raise ValueError("log_uniform needs a positive lower bound")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("log_uniform", "uniform", "integer", "choice") if getattr(self, k))

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` lies in this parameter's space (grid values are checked so)."""
        if self.choice is not None:
            return value in self.choice
        lo, hi = self.log_uniform or self.uniform or self.integer  # type: ignore[misc]
        return isinstance(value, int | float) and lo <= value <= hi


class SweepConfig(StrictModel):
    metric: str = Field(
        description="what the sweep optimises: a key of the trial's metrics.json such as "
        "target.val.accuracy (target_val.accuracy is read the same), or of its last validation"
    )
    direction: Literal["auto", "maximize", "minimize"] = Field(
        "auto", description="auto: minimise losses and errors, maximise the rest"
    )
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    pruner: Literal["hyperband", "median", "none"] = Field(
        "hyperband", description="stops poor trials early from their per-epoch validation"
    )
    prune_on: str | None = Field(
        None,
        description="the per-validation metric the pruner reads (default: the accuracy, or the "
        "loss for regression, of the split the metric names)",
    )
    trials: int = Field(20, ge=1, description="trials in all, over every worker (grid: its size)")
    seeds: list[int] = Field(
        default_factory=list,
        description="repeat each trial over these seeds; its value is the mean",
    )
    grid_points: int = Field(3, ge=2, description="values per continuous parameter on a grid")
    startup_trials: int = Field(
        4, ge=0, description="random trials before TPE models the space, and before pruning"
    )
    params: dict[str, ParamSpec] = Field(min_length=1)

    @field_validator("metric", "prune_on")
    @classmethod
    def _dotted(cls, value: str | None) -> str | None:
        return None if value is None else normalise_metric(value)

    @model_validator(mode="after")
    def _conditions_refer_to_choices(self) -> SweepConfig:
        for name, spec in self.params.items():
            for other, wanted in spec.when.items():
                parent = self.params.get(other)
                if parent is None or parent.choice is None:
                    raise ValueError(
                        f"params.{name}.when names {other}, which must be a choice parameter "
                        "of this sweep"
                    )
                values = wanted if isinstance(wanted, list) else [wanted]
                unknown = [v for v in values if v not in parent.choice]
                if unknown:
                    raise ValueError(
                        f"params.{name}.when: {other} never takes {unknown}; its choices are "
                        f"{parent.choice}"
                    )
            for value in spec.grid or []:
                if not spec.accepts(value):
                    raise ValueError(f"params.{name}.grid value {value!r} is outside its range")
        _order(self.params)  # raises on a cycle of conditions
        return self

    @property
    def maximize(self) -> bool:
        if self.direction != "auto":
            return self.direction == "maximize"
        return self.metric.rsplit(".", 1)[-1] not in LOWER_IS_BETTER

    def ordered(self) -> list[str]:
        """Parameters in an order where every condition's parameters come first."""
        return _order(self.params)


def normalise_metric(name: str) -> str:
    """``target_val.f1_macro`` -> ``target.val.f1_macro``: metrics.json spells splits dotted."""
    for role in ("source", "target"):
        for part in ("train", "val", "test"):
            if name.startswith(f"{role}_{part}."):
                return f"{role}.{part}." + name.split(".", 1)[1]
    return name


def _order(params: dict[str, ParamSpec]) -> list[str]:
    done: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise ValueError(f"params.{name}: its `when` conditions form a cycle")
        visiting.add(name)
        for other in params[name].when:
            visit(other)
        visiting.discard(name)
        done.append(name)

    for name in params:
        visit(name)
    return done
