"""The Hyperband step of ``auto``: sized to the budget, run on the sweep machinery, and the
tuned recipe is what adaptation and the winner build on."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import domainfit
from domainfit.auto import search_step
from domainfit.auto.plan import Step
from tests.auto.conftest import NO_TRACKING


def _exp(seconds: float) -> SimpleNamespace:
    return SimpleNamespace(rows={"02-full": {"seconds": seconds}})


def test_trials_fit_the_room_or_none() -> None:
    base = Step("02-full", "strategy", "mlp", "full")
    n, est, why = search_step.plan_trials(_exp(10.0), base, 125.0)  # type: ignore[arg-type]
    assert (n, est, why) == (12, 120.0, "")
    n, est, why = search_step.plan_trials(_exp(10.0), base, 1e6)  # type: ignore[arg-type]
    assert n == search_step.MAX_TRIALS
    n, est, why = search_step.plan_trials(_exp(30.0), base, 125.0)  # type: ignore[arg-type]
    assert n == 0 and est == 30.0 * search_step.MIN_TRIALS
    assert why == f"{search_step.MIN_TRIALS} trials of ~30 s do not fit the 125 s left"


@pytest.mark.usefixtures("short_plan")
def test_search_tunes_the_best_step_and_adaptation_builds_on_the_best(
    domains: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(search_step, "MIN_TRIALS", 3)
    monkeypatch.setattr(search_step, "MAX_TRIALS", 5)
    out = tmp_path / "exp"
    src, tgt = domains
    domainfit.auto(str(src), target=str(tgt), budget="3m", out=out, overrides=NO_TRACKING)
    doc = json.loads((out / "auto.json").read_text())
    rows = {r["id"]: r for r in doc["steps"]}
    search = rows["03-search"]
    assert search["status"] == "done", search["note"]
    trials = json.loads((out / "steps" / "03-search" / "trials.json").read_text())
    ran = trials["counts"]["complete"] + trials["counts"]["pruned"]
    assert 3 <= ran <= 5 and "trials, Hyperband" in search["note"]
    # the row is the best trial's run, and its recipe is the base's with the tuned rates
    assert search["dir"].startswith("steps/03-search/trials/trial-")
    assert Path(trials["best"]["run_dir"]).resolve() == (out / search["dir"]).resolve()
    base = rows[search["base"]]
    assert base["phase"] == "strategy"
    lr, base_lr = search["overrides"]["train"]["lr"], base["overrides"]["train"]["lr"]
    assert base_lr / search_step.LR_FACTOR <= lr <= base_lr * search_step.LR_FACTOR
    assert search["scores"]["source.val"] == pytest.approx(trials["best"]["value"])
    # adaptation starts from the best source-only step, the search's best trial included
    contenders = [r for r in rows.values() if r["phase"] in ("strategy", "search")]
    best = max(contenders, key=lambda r: r["scores"]["source.val"])  # first on ties
    assert rows["04-mmd"]["base"] == best["id"]
    assert doc["seconds"] <= 180 * 1.1
