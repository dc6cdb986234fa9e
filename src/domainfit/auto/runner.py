"""The loop of ``domainfit auto``: each planned step as a fit, in order, while the budget lasts.

Before each step its time is estimated (per-sample costs measured on this machine, scaled by
how the finished steps compared with their estimates); a step that would not leave the reserve
for the final stage first loses epochs, then is skipped, and says why. A step that runs gets
``train.max_seconds`` as a hard stop, so a wrong estimate costs at most one optimizer step
and the evaluation after it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domainfit.auto import priors, refit, search_step
from domainfit.auto.budget import Calibration, Clock, Costs, duration
from domainfit.auto.decide import Setup
from domainfit.auto.measure import measured_costs, prior_costs
from domainfit.auto.plan import (
    SOURCE_ONLY_PHASES,
    Step,
    adapt_overrides,
    estimate,
    step_config,
)
from domainfit.auto.scores import best_of, read_scores
from domainfit.auto.state import AutoState
from domainfit.config import RunConfig
from domainfit.errors import DomainfitError
from domainfit.models.specs import parse_spec
from domainfit.progress import say, stage

FLOOR_STEP_SECONDS = 5.0  # a hard stop below this is no run at all
NO_BASE = "no fine-tuned step to adapt (the probe's features are frozen)"


@dataclass
class Experiment:
    setup: Setup
    steps: list[Step]
    models: list[str]
    clock: Clock
    out: Path
    state: AutoState | None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    # frozen-feature runs (whose cost a warm feature cache can cut tenfold) and runs that
    # train the network are calibrated apart
    calibs: dict[str, Calibration] = field(
        default_factory=lambda: {"probe": Calibration(), "train": Calibration()}
    )
    costs: dict[str, Costs] = field(default_factory=dict)
    # --dry-run: the fine-tuning step expected to lead, which adaptation would build on
    expected: Step | None = None
    simulating: bool = False

    def __post_init__(self) -> None:
        self.sizes = self.setup.sizes()
        self.costs = {m: prior_costs(m, self.setup) for m in self.models}
        self.pretrained = any(parse_spec(m).kind != "mlp" for m in self.models)

    # --- selection: source validation first, the label-free score where adaptation competes
    def done(self, *phases: str) -> list[dict[str, Any]]:
        return [r for r in self.rows.values() if r["status"] == "done" and r["phase"] in phases]

    def best_source_only(self) -> dict[str, Any] | None:
        rows = self.done(*SOURCE_ONLY_PHASES)
        return best_of(rows, "source.val", self.setup.classification)

    def winner(self) -> dict[str, Any] | None:
        best = self.best_source_only()
        adapted = self.done("adapt")
        if best is None or not adapted:
            return best
        chosen = best_of([best, *adapted], priors.SELECT, higher=True)
        return chosen or best

    # --- time
    @staticmethod
    def kind(cfg: RunConfig) -> str:
        return "probe" if cfg.strategy.name == "linear_probe" else "train"

    def factor(self, kind: str = "train") -> float:
        return self.calibs[kind].factor

    def raw(self, step: Step, cfg: RunConfig) -> float:
        """Seconds before calibration."""
        return estimate(cfg, self.sizes, self.costs[step.model])

    def estimate(self, step: Step, cfg: RunConfig) -> float:
        return self.raw(step, cfg) * self.factor(self.kind(cfg))

    def reserve(self, *candidates: Step | None) -> float:
        """The final stage's share of the budget, were one of ``candidates`` the winner:
        diagnosis and export, the baselines no finished step provides, and on small data the
        refit on every labelled row (``refit``). The scratch baseline is not reserved for: it
        runs if the time left allows."""
        extra = [
            self._baselines_cost(s) + refit.reserved(self, s) for s in candidates if s is not None
        ]
        return self.last_parts() + max(extra, default=0.0) * self.factor()

    def _baselines_cost(self, step: Step) -> float:
        c = self.costs.get(step.model) or max(self.costs.values(), key=lambda x: x.infer)
        if "weights" in step.overrides.get("model", {}):
            # a warm-started adaptation: source_only trains its epoch again without the loss
            evaluated = sum(n for k, n in self.sizes.items() if not k.endswith(".train"))
            train = self.sizes.get("source.train", 0)
            return 2 * c.overhead + c.train * train + c.infer * evaluated
        if parse_spec(step.model or "mlp").kind != "mlp" and step.strategy != "linear_probe":
            return c.overhead  # the probe baseline: the floor step's run, or its cached features
        return 0.0  # reused: the floor itself, or the step an adaptation retrained

    def winner_step(self) -> Step | None:
        return self._step_of(self.winner())

    def adapt_base(self) -> Step | None:
        """The step adaptation builds on: the best source-only step that trains its features
        (a probe's are frozen and cached: no domain loss can move them)."""
        if self.simulating:
            return self.expected
        row = best_of(self.done("strategy", "search"), "source.val", self.setup.classification)
        return self._step_of(row)

    def _step_of(self, row: dict[str, Any] | None) -> Step | None:
        return next((s for s in self.steps if row and s.id == row["id"]), None)

    def _final_costs(self) -> Costs:
        return max(self.costs.values(), key=lambda x: x.infer)  # the dearest model's

    def export_cost(self) -> float:
        """Loading the winner and writing its model, calibrated."""
        return 2 * self._final_costs().overhead * self.factor()

    def last_parts(self) -> float:
        """Diagnosis (it reads every sample once) and export, calibrated."""
        diagnosis = self._final_costs().infer * sum(self.sizes.values()) * self.factor()
        return diagnosis + self.export_cost()

    def _adapt_bases(self, step: Step, left: float) -> list[Step | None]:
        """With a target, time is kept for one adaptation step on the fine-tuned step that
        leads: later strategies must leave it; the first fine-tuning step leaves room to adapt
        itself if it still fits then (with fewer epochs), else it goes first (in
        amazon_text.json fine-tuning gained 13 points over the probe, adaptation 2 more).
        One entry per try, in order; None: keep nothing."""
        if not (self.setup.has_target and self.setup.classification and priors.ADAPT_METHODS):
            return [None]
        base = self.adapt_base()
        if step.phase == "adapt":
            return [None]
        if base is None:
            return [step, None] if step.phase == "strategy" else [None]
        if self.adapt_cost(base) + self.reserve(base) > left:
            return [None]  # it cannot run whatever this step does: keep nothing for it
        return [base]

    def run_dir_of(self, step: Step) -> Path:
        """Where a finished step's model is: its row's folder (a search's best trial)."""
        row = self.rows.get(step.id) or {}
        return self.out / row["dir"] if row.get("dir") else self.state_dir(step.id)

    def adapt_cost(self, base: Step) -> float:
        probe = Step("", "adapt", "", "", priors.ADAPT_METHODS[0])
        _adapt_on(probe, base, self.run_dir_of(base))
        # and the baselines it would need as the winner, beyond those of its base
        more = max(self._baselines_cost(probe) - self._baselines_cost(base), 0.0)
        return self.estimate(probe, step_config(self.setup, probe)) + more * self.factor()

    def fit_budget(
        self, step: Step, left: float, current: Step | None
    ) -> tuple[RunConfig | None, float, str, float]:
        """The step's config if it fits in ``left`` minus the reserve (with fewer epochs if
        need be), its estimate, a note (why it shrank or was skipped), and the time it left
        for an adaptation step."""
        cfg = step_config(self.setup, step)
        full = self.estimate(step, cfg)
        reserve = self.reserve(step, current)
        fixed = any(o.replace(" ", "").startswith("train.epochs=") for o in self.setup.overrides)
        shrinkable = not fixed and cfg.strategy.name != "linear_probe"
        top = cfg.train.epochs
        kept = 0.0
        for base in self._adapt_bases(step, left):
            for epochs in range(top, (step.min_epochs if shrinkable else top) - 1, -1):
                step.epochs = None if epochs == top else epochs  # an adaptation on it, too
                kept = 0.0 if base is None else self.adapt_cost(base)
                fewer = cfg.model_copy(deep=True)
                fewer.train.epochs = epochs
                est = self.estimate(step, fewer)
                if est <= left - reserve - kept:
                    why = "" if epochs == top else f"epochs {top} -> {epochs} to fit the budget"
                    why += " and one adaptation step" if why and kept else ""
                    return fewer, est, why, kept
        step.epochs = None
        room = duration(max(left - reserve - kept, 0))
        why = f"needs ~{duration(full)}, {room} left after the final stage's {duration(reserve)}"
        if kept:
            why += f" and one adaptation step's {duration(kept)}"
        return None, full, why, 0.0

    # --- rows
    def row(self, step: Step, status: str, **extra: Any) -> dict[str, Any]:
        row = {**step.to_dict(), "status": status, "epochs": None, "estimate": None}
        row.update({"seconds": None, "dir": None, "scores": {}, "note": "", **extra})
        self.rows[step.id] = row
        return row

    def simulate(self) -> None:
        """The plan as the budget would run it, with the estimates alone (``--dry-run``)."""
        self.simulating = True
        left = self.clock.left()
        for step in self.steps:
            entry = self.state.finished(step.id) if self.state else None
            if entry is not None:
                self.rows[step.id] = {**entry, "note": "finished earlier: skipped"}
                continue
            if step.phase == "adapt":
                if self.expected is None:
                    self.row(step, "skipped", note=NO_BASE)
                    continue
                _adapt_on(step, self.expected, self.state_dir(self.expected.id))
            if step.phase == "search":
                left -= search_step.simulate(self, step, left)
                continue
            cfg, est, note, _ = self.fit_budget(step, left, self.expected)
            if cfg is None:
                self.row(step, "skipped", estimate=est, note=note)
                continue
            left -= est
            self.row(step, "planned", estimate=est, epochs=cfg.train.epochs, note=note)
            if self.expected is None and step.phase == "strategy":
                self.expected = step  # the first fine-tuning step that fits

    def run(self) -> None:
        assert self.state is not None
        for name in self.state.clear_interrupted():
            say(f"step {name} was interrupted: its folder is removed and the step runs again")
        todo = [s for s in self.steps if self.state.finished(s.id) is None]
        if todo and len(todo) < len(self.steps):
            say(
                f"resuming: {len(self.steps) - len(todo)} steps finished earlier, "
                f"{duration(self.state.spent)} spent, {duration(self.clock.left())} left"
            )
        try:
            if todo:
                self._measure()
            for i, step in enumerate(self.steps, start=1):
                self._step(i, step)
        except KeyboardInterrupt:
            say(f"interrupted: rerun the same command with --out {self.out} to resume")
            raise
        finally:  # the time of a step cut off counts against the budget of the next attempt
            self.state.spent = self.clock.spent()
            self.state.save()

    def _step(self, i: int, step: Step) -> None:
        assert self.state is not None
        entry = self.state.finished(step.id)
        if entry is not None:
            self._restore(step, entry)
            return
        if step.phase == "adapt" and not self._resolve_adapt(step):
            return
        if step.phase == "search":
            search_step.run(self, i, step)
            return
        if (self.state.step_dir(step.id) / "run.json").is_file():
            # it finished, but the attempt stopped before the state said so
            self.record_done(step, 0.0, 0.0, {"note": "finished in an earlier attempt"})
            say(f"step {step.id}: finished in an earlier attempt, taken as it is")
            return
        cfg, est, note, kept = self.fit_budget(step, self.clock.left(), self.winner_step())
        if cfg is None:
            self.row(step, "skipped", estimate=est, note=note)
            say(f"step {i}/{len(self.steps)} {step.id} skipped: {note}")
            return
        self._train(i, step, cfg, est, note, kept)

    def _measure(self) -> None:
        for model in self.models:
            start = time.monotonic()
            try:
                with stage("measuring"):
                    self.costs[model] = measured_costs(model, self.setup)
            except Exception as err:  # the priors stand; the calibration corrects them
                say(f"could not measure {model} here ({err}); estimates start from priors")
                continue
            c = self.costs[model]
            if c.source == "measured":
                say(
                    f"measured {model}: {c.infer * 1000:.1f} ms/sample inference, "
                    f"{c.train * 1000:.1f} ms/sample training ({time.monotonic() - start:.0f} s)"
                )

    def _restore(self, step: Step, entry: dict[str, Any]) -> None:
        step.base, step.model = entry.get("base"), entry.get("model", step.model)
        step.strategy = entry.get("strategy", step.strategy)
        step.overrides = entry.get("overrides", step.overrides)
        step.epochs = entry.get("epochs_override")
        self.rows[step.id] = {**entry, "note": (entry.get("note") or "") + " (finished earlier)"}
        if entry["status"] == "done":
            kind = "probe" if entry.get("strategy") == "linear_probe" else "train"
            self.calibs[kind].add(entry.get("raw_estimate") or 0.0, entry.get("seconds") or 0.0)
        say(f"step {step.id}: finished earlier ({entry['status']}), skipped")

    def _resolve_adapt(self, step: Step) -> bool:
        base = self.adapt_base()
        if base is None:
            self.row(step, "skipped", note=NO_BASE)
            say(f"step {step.id} skipped: {NO_BASE}")
            return False
        _adapt_on(step, base, self.run_dir_of(base))
        return True

    def state_dir(self, step_id: str) -> Path:
        return self.out / "steps" / step_id

    def record_done(
        self, step: Step, seconds: float, est: float, common: dict[str, Any]
    ) -> dict[str, Any]:
        assert self.state is not None
        given = common.get("dir")
        run_dir = self.out / given if given else self.state.step_dir(step.id)
        scores = read_scores(run_dir, self.setup.classification, priors.SELECT)
        common = {"estimate": est, "dir": str(run_dir.relative_to(self.out)), **common}
        common.setdefault("overrides", step.overrides)
        row = self.row(step, "done", seconds=seconds or scores["seconds"], scores=scores, **common)
        self.state.record(step.id, row, self.clock.spent())
        return scores

    def _train(
        self, i: int, step: Step, cfg: RunConfig, est: float, note: str, slice_: float
    ) -> None:
        assert self.state is not None
        kind, raw = self.kind(cfg), self.raw(step, cfg)
        left = self.clock.left()
        c = self.costs[step.model]
        evaluated = sum(n for k, n in self.sizes.items() if not k.endswith(".train"))
        outside = (c.overhead + c.infer * evaluated) * self.factor(kind)  # load, evaluate, write
        kept = self.reserve(step, self.winner_step()) + slice_  # what the step must leave
        cfg.train.max_seconds = max(FLOOR_STEP_SECONDS, left - kept - outside)
        run_dir = self.state.step_dir(step.id)
        say(
            f"step {i}/{len(self.steps)} {step.id}: {step.title} · {step.model} · "
            f"{cfg.train.epochs} epochs · ~{duration(est)} · {duration(left)} left"
            + (f" · {note}" if note else "")
        )
        start = time.monotonic()
        common = {"estimate": est, "raw_estimate": raw, "epochs": cfg.train.epochs, "note": note}
        common.update({"epochs_override": step.epochs, "overrides": step.overrides})
        common["dir"] = str(run_dir.relative_to(self.out))
        from domainfit.fit import run_fit

        try:
            with stage(step.id):
                run_fit(cfg, self.setup.base_dir, run_dir, resume=False)
        except Exception as err:  # one failed step must not end the experiment
            line = err.line() if isinstance(err, DomainfitError) else f"{type(err).__name__}: {err}"
            row = self.row(step, "failed", seconds=time.monotonic() - start, **common)
            row["note"] = line
            self.state.record(step.id, row, self.clock.spent())
            say(f"step {step.id} failed: {line}")
            return
        seconds = time.monotonic() - start
        self.calibs[kind].add(raw, seconds)
        scores = self.record_done(step, seconds, est, common)
        say(
            f"step {step.id} done in {duration(seconds)} (estimated {duration(est)}) · "
            + _score_line(scores)
            + (" · stopped at its deadline" if scores["timed_out"] else "")
        )


def _adapt_on(step: Step, base: Step, base_dir: Path) -> None:
    step.base, step.model = base.id, base.model
    step.overrides = adapt_overrides(base, step.method, base_dir)
    step.strategy = step.overrides["strategy"]["name"]  # a warm start fine-tunes it all


def _score_line(scores: dict[str, Any]) -> str:
    parts = []
    if scores.get("source.val") is not None:
        parts.append(f"source.val.{scores['metric']} {scores['source.val']:.4f}")
    if scores.get(priors.SELECT) is not None:
        parts.append(f"{priors.SELECT} {scores[priors.SELECT]:.4f}")
    return " · ".join(parts) or "no validation score"
