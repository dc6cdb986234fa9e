"""What ``auto`` plans for each modality, and that ``--dry-run`` trains and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import domainfit
from domainfit.auto import priors
from domainfit.auto.budget import Clock, Costs
from domainfit.auto.decide import audit_and_prepare
from domainfit.auto.plan import build_plan, candidate_models
from domainfit.auto.runner import Experiment
from domainfit.errors import ConfigError
from tests.auto.conftest import NO_TRACKING
from tests.test_cli import run


def _reviews(path: Path, n: int = 60, noun: str = "kettle") -> Path:
    words = ["great", "awful"]
    rows = [f'"this {noun} is {words[i % 2]} number {i}",{i % 2}' for i in range(n)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    return path


def _plan(source: Path, target: Path | None = None, models: list[str] | None = None):  # type: ignore[no-untyped-def]
    setup = audit_and_prepare(str(source), target=target and str(target), overrides=NO_TRACKING)
    return setup, *build_plan(setup, candidate_models(setup, models))


def test_features_plan_mlp_then_adaptation(domains: tuple[Path, Path]) -> None:
    setup, steps, notes = _plan(*domains)
    assert [s.phase for s in steps] == ["strategy"] * 2 + ["search"] + ["adapt"] * 3
    assert {s.model for s in steps if s.phase == "strategy"} == {"mlp"}
    assert [s.method for s in steps if s.phase == "adapt"] == list(priors.ADAPT_METHODS)
    assert any(n.setting.startswith("linear_probe") and n.value == "skipped" for n in notes)
    chosen = {d.setting: d for d in setup.decisions}
    assert chosen["clean.drop_duplicates"].value is True
    assert chosen["clean.drop_cross_domain"].value is True
    assert chosen["split.method"].value == "auto -> stratified"
    assert chosen["adapt.protocol"].value == "inductive"


def test_text_plan_floor_then_priors_order(tmp_path: Path) -> None:
    _, steps, notes = _plan(_reviews(tmp_path / "r.csv"))
    assert steps[0].strategy == "linear_probe" and steps[0].phase == "floor"
    assert [s.strategy for s in steps[1:-1]] == [r.strategy for r in priors.TEXT]
    assert steps[-1].phase == "search"  # Hyperband on the best of them, if it fits
    fewest = {s.strategy: s.min_epochs for s in steps[1:-1]}
    assert fewest["bitfit"] == fewest["lora"] == 5 and fewest["full"] == 1  # PEFT keeps half
    assert all(s.model == "minilm" for s in steps[:-1])  # the search's is its base's
    assert not any(s.phase == "adapt" for s in steps)  # no target, no adaptation
    assert any("gradual_unfreeze" in n.setting for n in notes)


def test_config_file_is_the_base_and_user_settings_win(tmp_path: Path) -> None:
    reviews = _reviews(tmp_path / "r.csv")
    config = tmp_path / "base.yaml"
    config.write_text(
        f"data:\n  source: {reviews.name}\nclean:\n  drop_duplicates: false\n"
        "model:\n  backbone: minilm\n  max_length: 64\nstrategy:\n  name: lora\n"
    )
    setup = audit_and_prepare(None, config=config, overrides=NO_TRACKING)
    chosen = {d.setting: d for d in setup.decisions}
    assert chosen["clean.drop_duplicates"].value is False  # the config's choice stands
    assert "strategy" not in setup.raw  # auto chooses the strategy per step
    assert setup.raw["data"]["source"]["spec"] == str(reviews.resolve())
    assert setup.cfg.model is not None and setup.cfg.model.max_length == 64


def test_a_model_that_cannot_read_the_data_is_refused(tmp_path: Path) -> None:
    setup = audit_and_prepare(str(_reviews(tmp_path / "r.csv")), overrides=NO_TRACKING)
    with pytest.raises(ConfigError, match="reads tables and feature arrays"):
        candidate_models(setup, ["mlp"])


def test_dry_run_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    domains: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the default --out would be runs/auto-src-<time> here
    before = sorted(p.name for p in tmp_path.rglob("*"))
    src, tgt = domains
    code, out, err = run(
        capsys, "auto", str(src), "--target", str(tgt), "--budget", "1h", "--dry-run"
    )
    assert code == 0, err
    assert "Plan for a budget of 1h00m" in out and "nothing trained, nothing written" in out
    # a budget no load can exhaust: the dry run measures this machine's speed, so a tight one
    # skipped the adaptation steps on a busy CI machine; step ids are never wrapped in the table
    assert "04-mmd" in out and "clean.drop_cross_domain" in out
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_dry_run_of_text_through_the_api(tmp_path: Path) -> None:
    reviews, books = _reviews(tmp_path / "r.csv"), _reviews(tmp_path / "b.csv", 40, "novel")
    result = domainfit.auto(
        str(reviews), target=str(books), budget="1h", dry_run=True, out=tmp_path / "exp"
    )
    assert result.dry_run and not (tmp_path / "exp").exists()
    statuses = {r["id"]: r["status"] for r in result.steps}
    assert statuses["01-linear-probe"] == "planned"
    assert all(r["estimate"] is not None for r in result.steps if r["status"] == "planned")
    adapt = [r for r in result.steps if r["phase"] == "adapt"]
    assert adapt and all(r["base"] for r in adapt)


def _simulated(
    domains: tuple[Path, Path], tmp_path: Path, budget: float
) -> tuple[Experiment, list[dict[str, Any]]]:
    """The features plan with a target under ``budget`` seconds, simulated with fixed costs."""
    setup = audit_and_prepare(str(domains[0]), target=str(domains[1]), overrides=NO_TRACKING)
    models = candidate_models(setup, None)
    steps, _ = build_plan(setup, models)
    exp = Experiment(setup, steps, models, Clock(budget), tmp_path / "exp", None)
    exp.costs = {"mlp": Costs(infer=1e-3, train=0.02, overhead=2.0, source="test")}
    exp.simulate()
    return exp, [exp.rows[s.id] for s in steps]


def test_tight_budget_shrinks_epochs_then_skips(domains: tuple[Path, Path], tmp_path: Path) -> None:
    """Steps that cannot fit lose epochs, then are skipped with the reason; what is planned
    and the final stage's reserve stay within the budget."""
    exp, rows = _simulated(domains, tmp_path, 120.0)
    assert rows[0]["status"] == "planned" and "epochs 20 -> " in rows[0]["note"]
    assert "and one adaptation step" in rows[0]["note"]  # room left to adapt it
    skipped = [r for r in rows if r["status"] == "skipped" and r["phase"] != "search"]
    assert skipped and all(r["note"].startswith("needs ~") for r in skipped)
    search = next(r for r in rows if r["phase"] == "search")
    assert search["status"] == "skipped" and "trials of ~" in search["note"]
    assert any(r["phase"] == "adapt" and r["status"] == "planned" for r in rows)
    planned = sum(r["estimate"] for r in rows if r["status"] == "planned")
    assert planned + exp.reserve(exp.expected) <= 120.0


def test_an_adaptation_that_cannot_fit_keeps_no_time(
    domains: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were time kept for an adaptation step dearer than the budget, every later fine-tuning
    step would be skipped for nothing (books->kitchen on one core did so): none is kept."""
    monkeypatch.setattr(priors, "ADAPT_COST", 1000.0)  # dearer than the budget at any length
    _, rows = _simulated(domains, tmp_path, 600.0)
    strategies = [r for r in rows if r["phase"] == "strategy"]
    assert [r["status"] for r in strategies] == ["planned", "planned"]
    assert all("adaptation" not in r["note"] for r in strategies), [r["note"] for r in rows]
    assert all(r["status"] == "skipped" for r in rows if r["phase"] == "adapt")
