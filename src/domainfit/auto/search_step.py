"""The search step of ``domainfit auto``: Hyperband over the learning rate and weight decay of
the best source-only step so far, on the sweep machinery (``domainfit sweep``), with as many
trials as the budget affords.

Hyperband runs brackets of successive halving: every trial starts, and at each rung of
validations the worse part stops (Optuna's pruner), so most trials cost a few epochs. That pays
where one trial is cheap next to the budget: feature and table models train in seconds. A
MiniLM or EfficientNet fine-tune on a CPU takes minutes and a 30-minute budget affords two or
three; there the step is skipped (fewer than ``MIN_TRIALS`` fit) and the budget goes to the
recipes the priors rank first (``priors.py``). Trials are ranked on the source validation
score, so no target label is read."""

from __future__ import annotations

import copy
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domainfit.auto.plan import Step, step_config
from domainfit.auto.scores import headline

if TYPE_CHECKING:
    from domainfit.auto.runner import Experiment

MIN_TRIALS = 6  # fewer: Hyperband's rungs have too little to compare
MAX_TRIALS = 40
LR_FACTOR = 5.0  # the learning rate is searched within x/÷ this of the recipe's
WEIGHT_DECAY = (1e-5, 1e-1)
# a trial that runs past this many times the recipe's measured time is stopped (max_seconds)
TRIAL_SLACK = 2.0
NO_BASE = "no source-only step that trains a network finished: nothing to tune"


def base_step(exp: Experiment) -> Step | None:
    """The step the search tunes: the best finished source-only step that trains a network
    (``adapt_base``); under ``--dry-run``, the step expected to lead."""
    return exp.adapt_base()


def trial_seconds(exp: Experiment, base: Step) -> float:
    """One trial's time: the base step's measured seconds (its estimate under --dry-run)."""
    row = exp.rows.get(base.id, {})
    seconds = row.get("seconds") or row.get("estimate")
    if seconds:
        return float(seconds)
    return exp.estimate(base, step_config(exp.setup, base))


def plan_trials(exp: Experiment, base: Step, room: float) -> tuple[int, float, str]:
    """How many trials fit ``room`` seconds, their estimated total, and why none if so."""
    each = trial_seconds(exp, base)
    n = min(MAX_TRIALS, int(room // each)) if each > 0 else 0
    if n < MIN_TRIALS:
        return (
            0,
            MIN_TRIALS * each,
            (f"{MIN_TRIALS} trials of ~{each:.0f} s do not fit the {max(room, 0):.0f} s left"),
        )
    return n, n * each, ""


def search_raw(exp: Experiment, base: Step, trials: int) -> dict[str, Any]:
    """The sweep config: the base step's config with a ``sweep`` section."""
    cfg = step_config(exp.setup, base)
    raw = cfg.model_dump(mode="json", exclude_none=True)
    raw["name"] = "auto-search"
    lr = cfg.train.lr
    # a trial past TRIAL_SLACK x the recipe's time is stopped: one bad guess cannot eat the budget
    raw["train"]["max_seconds"] = TRIAL_SLACK * trial_seconds(exp, base)
    metric = headline(exp.setup.classification)
    raw["sweep"] = {
        "metric": f"source.val.{metric}",
        "sampler": "tpe",
        "pruner": "hyperband",
        "trials": trials,
        "startup_trials": min(4, trials // 2),
        "params": {
            "train.lr": {"log_uniform": [lr / LR_FACTOR, lr * LR_FACTOR]},
            "train.weight_decay": {"log_uniform": list(WEIGHT_DECAY)},
        },
    }
    return raw


def room(exp: Experiment, step: Step, base: Step) -> float:
    """Seconds the search may take: what is left after the final stage and, with a target,
    one adaptation step on the tuned recipe."""
    left = exp.clock.left() - exp.reserve(step, exp.winner_step())
    kept = exp.adapt_cost(base) if exp.setup.has_target and exp.setup.classification else 0.0
    return left - kept if kept <= left else left  # an adaptation that cannot run keeps nothing


def simulate(exp: Experiment, step: Step, left: float) -> float:
    """--dry-run: the step as planned (or skipped); the seconds it is expected to take."""
    base = exp.expected
    if base is None:
        exp.row(step, "skipped", note=NO_BASE)
        return 0.0
    step.base, step.model, step.overrides = base.id, base.model, copy.deepcopy(base.overrides)
    spare = left - (exp.clock.left() - room(exp, step, base))
    n, est, why = plan_trials(exp, base, spare)
    if n == 0:
        exp.row(step, "skipped", estimate=est, note=why)
        return 0.0
    exp.row(step, "planned", estimate=est, note=f"up to {n} trials, Hyperband")
    return est


def run(exp: Experiment, i: int, step: Step) -> None:
    """Tune the best source-only step; the best trial becomes this step's row."""
    from domainfit.progress import say, stage

    assert exp.state is not None
    base = base_step(exp)
    if base is None:
        exp.row(step, "skipped", note=NO_BASE)
        say(f"step {step.id} skipped: {NO_BASE}")
        return
    step.base, step.model, step.overrides = base.id, base.model, copy.deepcopy(base.overrides)
    n, est, why = plan_trials(exp, base, room(exp, step, base))
    if n == 0:
        exp.row(step, "skipped", estimate=est, note=why)
        say(f"step {i}/{len(exp.steps)} {step.id} skipped: {why}")
        return
    say(
        f"step {i}/{len(exp.steps)} {step.id}: Hyperband over lr and weight decay of {base.id} "
        f"· up to {n} trials · ~{est:.0f} s · {exp.clock.left():.0f} s left"
    )
    start = time.monotonic()
    with stage(step.id):
        best = _sweep(exp, step, base, n)
    seconds = time.monotonic() - start
    note = f"{n} trials, Hyperband; tunes {base.id}"
    if best is None:
        row = exp.row(step, "failed", seconds=seconds, estimate=est, note=note + ": none finished")
        exp.state.record(step.id, row, exp.clock.spent())
        return
    step.overrides = tuned_overrides(base, best)
    common = {"note": note, "overrides": step.overrides, "dir": str(best.relative_to(exp.out))}
    common["base"] = base.id
    scores = exp.record_done(step, seconds, est, common)
    say(f"step {step.id} done in {seconds:.0f} s · best source.val {scores['source.val']}")


def _sweep(exp: Experiment, step: Step, base: Step, trials: int) -> Path | None:
    """Run the sweep into the step's folder; the best trial's run folder, or None."""
    from domainfit.search.api import sweep

    out = exp.state_dir(step.id)
    raw = search_raw(exp, base, trials)
    sweep(raw, out=out, quiet=True, base_dir=exp.setup.base_dir)
    summary = json.loads((out / "trials.json").read_text())
    best = summary.get("best")
    if not best or not best.get("run_dir"):
        return None
    return Path(best["run_dir"])


def tuned_overrides(base: Step, run_dir: Path) -> dict[str, Any]:
    """The base step's overrides with the best trial's learning rate and weight decay, so
    adaptation and winner.yaml build on the tuned recipe."""
    out = copy.deepcopy(base.overrides)
    if base.epochs is not None:
        out.setdefault("train", {})["epochs"] = base.epochs
    cfg = json.loads(json.dumps(_config(run_dir)))
    train = out.setdefault("train", {})
    for key in ("lr", "weight_decay"):
        value = cfg.get("train", {}).get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            train[key] = value
    return out


def _config(run_dir: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((run_dir / "config.yaml").read_text()) or {}
