"""``domainfit auto``: the whole adaptation experiment in one call, under a compute budget.

Order of work: the budget and ``--out`` are checked, the data are audited, cleaned and split
(``decide``), the plan is made (``plan``), and only then is ``OUT`` created: bad input leaves
nothing behind. The steps run while the budget lasts (``runner``); the winner is compared with
its baselines, diagnosed and exported (``finish``); ``auto.json`` and ``auto.html`` say it all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domainfit.auto import priors
from domainfit.auto.budget import Clock, duration, parse_budget
from domainfit.auto.decide import Decision, audit_and_prepare
from domainfit.auto.finish import final_stage
from domainfit.auto.plan import SOURCE_ONLY_PHASES, build_plan, candidate_models
from domainfit.auto.report import leaderboard, write_html, write_json
from domainfit.auto.runner import Experiment
from domainfit.auto.scores import headline
from domainfit.auto.state import new_state, open_state
from domainfit.errors import ConfigError
from domainfit.progress import say
from domainfit.run_dirs import stamped


@dataclass
class AutoResult:
    """``steps``: every planned step with its status (planned, done, skipped, failed), estimate,
    time and scores; ``winner``: the chosen step's row; ``files``: what was written."""

    dir: Path
    dry_run: bool
    budget: float
    seconds: float
    decisions: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    leaderboard: list[dict[str, Any]]
    winner: dict[str, Any] | None
    reserve: float
    selection: dict[str, str]
    final: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def run_auto(
    source: str | None = None,
    *,
    target: str | None = None,
    label: str | None = None,
    text: str | None = None,
    budget: str | float = "30m",
    models: list[str] | None = None,
    out: str | Path | None = None,
    dry_run: bool = False,
    config: str | Path | None = None,
    overrides: list[str] | None = None,
    started: float | None = None,
) -> AutoResult:
    """``started``: the ``time.monotonic()`` the budget counts from (default: now; the CLI
    passes its own start, so loading PyTorch counts too)."""
    seconds = parse_budget(budget)
    if config is None and source is not None and source.lower().endswith((".yaml", ".yml")):
        config, source = source, None  # `domainfit auto run.yaml`
    if source is None and config is None:
        raise ConfigError("auto needs the source data", "pass SOURCE or --config FILE")
    command = {
        "source": source,
        "target": target,
        "label": label,
        "text": text,
        "models": list(models or []),
        "config": str(Path(config).resolve()) if config is not None else None,
        "overrides": list(overrides or []),
    }
    out_dir = Path(out) if out is not None else stamped(f"auto-{_slug(source or config)}")
    state = open_state(out_dir, command)  # a foreign folder is refused before any work
    clock = Clock(seconds, spent_before=state.spent if state else 0.0)
    if started is not None:
        clock.started = started
    say("auto: reading, cleaning and splitting the data")
    setup = audit_and_prepare(
        source, target=target, label=label, text=text, config=config, overrides=overrides
    )
    chosen = candidate_models(setup, models)
    steps, notes = build_plan(setup, chosen)
    selection = _selection(setup.has_target and setup.classification, setup.classification)
    decisions = [d.to_dict() for d in [*setup.decisions, *notes, _select_decision(selection)]]
    exp = Experiment(setup, steps, chosen, clock, out_dir, state)
    if dry_run:
        exp.simulate()
        rows = [exp.rows[s.id] for s in steps]
        return AutoResult(
            out_dir,
            True,
            seconds,
            0.0,
            decisions,
            rows,
            [],
            None,
            exp.reserve(exp.expected),
            selection,
        )
    exp.state = state or new_state(out_dir, command)
    say(f"auto: {len(steps)} steps planned, {duration(clock.left())} of {duration(seconds)} left")
    exp.run()
    winner = exp.winner()
    final = final_stage(exp, winner) if winner is not None else {}
    exp.state.spent = clock.spent()
    exp.state.save()
    rows = [exp.rows[s.id] for s in steps if s.id in exp.rows]
    board = leaderboard(rows, setup.classification)
    if winner is not None:
        selection["why"] = _why(exp, winner, selection)
    result = AutoResult(
        out_dir,
        False,
        seconds,
        clock.spent(),
        decisions,
        rows,
        board,
        winner,
        exp.reserve(exp.winner_step()),
        selection,
        final,
    )
    doc = _document(result, command)
    result.files = {"auto.json": write_json(out_dir, doc), "auto.html": write_html(out_dir, doc)}
    if winner is not None:
        result.files["winner.yaml"] = out_dir / "winner.yaml"
        if (out_dir / "model").is_dir():
            result.files["model"] = out_dir / "model"
    if winner is None:
        raise ConfigError(
            f"no step finished within the budget ({out_dir / 'auto.html'} says why)",
            "raise --budget, or pass --set train.epochs=1 for shorter steps",
        )
    return result


def _slug(spec: str | Path | None) -> str:
    text = Path(str(spec)).stem if spec and ":" not in str(spec) else str(spec)
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-") or "run"


def _selection(adapting: bool, classification: bool) -> dict[str, str]:
    metric = f"source.val.{headline(classification)}"
    if not adapting:
        return {"metric": metric, "why": ""}
    return {
        "metric": f"{metric}, then {priors.SELECT} on the target (label-free)",
        "why": "",
    }


def _select_decision(selection: dict[str, str]) -> Decision:
    return Decision(
        "selection",
        selection["metric"],
        "source-only steps compete on the source validation split; adapted variants of the "
        f"best of them compete with it on {priors.SELECT} of their target predictions, which "
        "reads no target label"
        if "label-free" in selection["metric"]
        else "the source validation split: the test split stays unseen until the end",
    )


def _why(exp: Experiment, winner: dict[str, Any], selection: dict[str, str]) -> str:
    best = exp.best_source_only()
    metric = selection["metric"].split(",")[0]
    n = len(exp.done(*SOURCE_ONLY_PHASES))
    if best is None:
        return ""
    score = best["scores"]["source.val"]
    text = f"{best['id']} had the best {metric} ({score:.4f}) of {n} source-only steps"
    adapted = exp.done("adapt")
    if adapted:
        key = priors.SELECT
        others = ", ".join(f"{r['method']} {_num(r['scores'].get(key))}" for r in adapted)
        lead = (
            f"{winner['id']} ({winner['title']}) won on {key}"
            if winner is not best
            else f"it kept the lead on {key}"
        )
        text += f"; {lead} ({_num(best['scores'].get(key))} without adaptation; {others})"
    return text + "."


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _document(result: AutoResult, command: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "domainfit-auto-result",
        "version": 1,
        "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "command": command,
        "budget_seconds": result.budget,
        "seconds": round(result.seconds, 2),
        "reserve_seconds": round(result.reserve, 2),
        "selection": result.selection,
        "decisions": result.decisions,
        "steps": result.steps,
        "leaderboard": result.leaderboard,
        "winner": result.winner,
        "final": result.final,
    }
