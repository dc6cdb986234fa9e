"""The winner's recipe trained once more on every labelled source row, when the budget allows.

Choosing a step needs rows it did not train on: the split keeps a validation and a test part
(with 200 labelled reviews, 140/30/30). Once the choice is made they have done their work, and
training the chosen recipe on all of them is what AutoGluon's ``refit_full`` and most
practitioners do last: in benchmarks/results/auto.json, 200 kitchen reviews, the winner trained
on 140 scored 79.0 on the 600-review test set where the same recipes trained on 200 score
84-86 (strategies.json). The leaderboard, its intervals and the baselines stay those of the
held-out runs (the refit has no held-out row left to measure); auto.json says which model
was exported.

When: a source-only winner (an adaptation continues its base step's model, so refitting it
would cost two runs) under a split auto chose (a predefined or k-fold split is the user's).
Below ``RESERVE_BELOW`` labelled rows its time is reserved from the start, since there the
held-out share costs the most accuracy and the refit is cheap; above, it runs if time is left.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domainfit.auto.budget import duration
from domainfit.auto.plan import SOURCE_ONLY_PHASES, Step, step_config
from domainfit.config import RunConfig

if TYPE_CHECKING:
    from domainfit.auto.runner import Experiment

RESERVE_BELOW = 1000  # labelled source rows
FOLDER = "refit"
# an estimate this far over the room still runs: max_seconds stops it at the room's end, and
# estimates drift by more than this between the plan and the final stage
SLACK = 0.15


def labelled_rows(exp: Experiment) -> int:
    return sum(n for k, n in exp.sizes.items() if k.startswith("source."))


def why_not(exp: Experiment, step: Step | None) -> str:
    """Why the winner ``step`` is not refit ('' when it is)."""
    if step is None:
        return "no winner"
    if step.phase not in SOURCE_ONLY_PHASES:
        return "an adaptation continues its base step's model: refitting it would take two runs"
    if exp.setup.cfg.split.method in ("predefined", "kfold"):
        return f"split.method={exp.setup.cfg.split.method} is the user's: kept as it is"
    if labelled_rows(exp) <= exp.sizes.get("source.train", 0):
        return "every labelled row already trains"
    return ""


def raw_cost(exp: Experiment, step: Step | None) -> float:
    """Uncalibrated seconds of the refit of ``step``: its run, with every labelled row
    training (0 when it would not be refit)."""
    if step is None or why_not(exp, step):
        return 0.0
    cfg = step_config(exp.setup, step)  # with the step's epochs, shrunk or not
    grow = labelled_rows(exp) / max(exp.sizes.get("source.train", 1), 1)
    return exp.raw(step, cfg) * grow


def reserved(exp: Experiment, step: Step | None) -> float:
    """What the budget keeps for the refit while steps are still running."""
    return raw_cost(exp, step) if labelled_rows(exp) < RESERVE_BELOW else 0.0


def refit_config(wcfg: RunConfig, max_seconds: float) -> RunConfig:
    cfg = wcfg.model_copy(deep=True)
    cfg.name = "auto-refit"
    cfg.split = cfg.split.model_copy(update={"train": 1.0, "val": 0.0, "test": 0.0})
    cfg.baselines = []
    cfg.train.max_seconds = max_seconds
    return cfg


def run(exp: Experiment, winner: dict[str, Any], wcfg: RunConfig) -> dict[str, Any]:
    """Train the refit into ``out/refit``; what happened, for auto.json."""
    from domainfit.progress import say, stage

    step = exp.winner_step()
    why = why_not(exp, step)
    if why:
        return {"skipped": why}
    est = raw_cost(exp, step) * exp.factor()
    # only the export is still to come (the diagnosis ran): counting the diagnosis again
    # skipped kitchen-200's reserved refit by 14 s of estimate and left 12 minutes unused
    room = exp.clock.left() - exp.export_cost()
    if est > room * (1 + SLACK):
        return {"skipped": f"needs ~{duration(est)}, {duration(max(room, 0))} left"}
    target = exp.out / FOLDER
    shutil.rmtree(target, ignore_errors=True)  # an interrupted earlier attempt
    rows = labelled_rows(exp)
    say(f"final: refit {winner['id']} on all {rows} labelled source rows (~{duration(est)})")
    start = time.monotonic()
    from domainfit.fit import run_fit

    try:
        with stage("refit"):
            run_fit(refit_config(wcfg, max(5.0, room)), exp.setup.base_dir, target, resume=False)
    except Exception as err:  # the held-out winner is exported instead
        shutil.rmtree(target, ignore_errors=True)
        return {"error": f"{type(err).__name__}: {err}"}
    done = {"dir": FOLDER, "rows": rows, "seconds": round(time.monotonic() - start, 2)}
    stopped = json.loads((target / "run.json").read_text()).get("stopped")
    if stopped:  # the last epochs run at the schedule's smallest rates: the model stands
        done["stopped"] = stopped
    return done


def exported_run(exp: Experiment, winner: dict[str, Any], refit: dict[str, Any]) -> Path:
    """The run whose model is exported: the refit if it was trained, else the winner's."""
    return exp.out / (refit.get("dir") or winner["dir"])
