"""``domainfit rank``: candidates (specs, layers, trained runs) scored and costed on the data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import domainfit
import domainfit.api as api
from domainfit.cli import main
from domainfit.errors import ConfigError
from tests.models.tiny import save_tiny_bert, write_reviews_csv


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("rank")
    bert = save_tiny_bert(root / "bert")
    cfg = {
        "name": "rank",
        "data": {"source": str(write_reviews_csv(root / "reviews.csv", n=120))},
        "split": {"method": "stratified", "train": 0.7, "val": 0.15, "test": 0.15},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "strategy": {"cache_dir": str(root / "cache")},
        "train": {"epochs": 3, "batch_size": 16, "lr": 5e-3},
        "track": {"enabled": False},
    }
    return bert, cfg


def test_layers_and_a_trained_run_are_ranked(setup: tuple[Path, dict], tmp_path: Path) -> None:
    bert, cfg = setup
    run = domainfit.fit(cfg, out=tmp_path / "run")  # fine-tuned on this very task
    cands = [f"hf:{bert}", f"hf:{bert}#0", f"run:{run.dir}"]
    result = api.rank(cfg, candidates=cands)
    assert [r.rank for r in result.rows] == [1, 2, 3]
    by_name = {r.name: r for r in result.rows}
    trained = by_name[f"run:{run.dir}"]
    assert {"leep", "nce"} <= set(trained.scores)  # its head gives source probabilities
    assert "leep" not in by_name[f"hf:{bert}"].scores
    # the run trained on the source's training split: every candidate is scored on the rows
    # it never saw (val + test), and the user is told why
    assert result.pool == "train+val+test"
    assert 30 <= result.samples < 120
    (warning,) = result.warnings
    assert warning.startswith(f"run:{run.dir} trained on ")
    assert f"scored on the {result.samples} rows none of them saw" in warning
    cost = trained.cost
    assert cost["params"] > 0 and cost["latency_ms"] > 0 and cost["finetune_minutes"] > 0
    assert not any(r.gap for r in result.rows)  # no target domain: no gap
    assert len(list(Path(cfg["strategy"]["cache_dir"]).glob("*.safetensors"))) == 3


def test_a_candidate_that_saw_every_row_is_not_recommended(
    setup: tuple[Path, dict], tmp_path: Path
) -> None:
    bert, cfg = setup
    cfg = {**cfg, "split": {"method": "stratified", "train": 0.9, "val": 0.05, "test": 0.05}}
    run = domainfit.fit(cfg, out=tmp_path / "run")
    result = api.rank(cfg, candidates=[f"run:{run.dir}", f"hf:{bert}#0"])
    assert result.pool == "train+val+test" and result.samples == 120  # too few held out
    assert any("its scores are optimistic and it is not recommended" in w for w in result.warnings)
    assert result.recommendation.startswith(f"hf:{bert}#0")
    doc = result.to_dict()
    assert doc["warnings"] == result.warnings


def test_target_gap_per_candidate(setup: tuple[Path, dict], tmp_path: Path) -> None:
    bert, cfg = setup
    target = tmp_path / "target.csv"
    lines = ["text,label"] + [f"zz qq unrelated words {i % 3},{i % 2}" for i in range(60)]
    target.write_text("\n".join(lines) + "\n")
    cfg = {**cfg, "data": {**cfg["data"], "target": str(target)}}
    result = api.rank(cfg, candidates=[f"hf:{bert}", f"hf:{bert}#0"])
    assert result.target_samples > 0
    for r in result.rows:
        assert set(r.gap) == {"pad", "pad_within", "ratio"}
        assert r.gap["pad"] > 1.5  # a target of other words is told apart in any features
    assert result.to_dict()["candidates"][0]["gap"] == result.rows[0].gap


def test_bad_candidates(setup: tuple[Path, dict], tmp_path: Path) -> None:
    bert, cfg = setup
    with pytest.raises(ConfigError, match="not a layer number"):
        api.rank(cfg, candidates=[f"hf:{bert}#top"])
    with pytest.raises(ConfigError, match="not a finished run folder"):
        api.rank(cfg, candidates=[f"run:{tmp_path}"])
    result = api.rank(cfg, candidates=[f"hf:{bert}", f"hf:{bert}#9"])
    assert [r.name for r in result.rows] == [f"hf:{bert}"]
    assert "layers 0..2" in result.failed[f"hf:{bert}#9"]


def test_cli_writes_json_and_refuses_no_candidates(
    setup: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    bert, cfg = setup
    path = tmp_path / "rank.yaml"
    path.write_text(yaml.safe_dump({**cfg, "rank": {"candidates": [f"hf:{bert}#1"]}}))
    out = tmp_path / "rank.json"
    assert main(["rank", str(path), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["candidates"][0]["name"] == f"hf:{bert}#1" and doc["by"] == "logme"
    assert "recommended" in capsys.readouterr().out
    path.write_text(yaml.safe_dump(cfg))
    assert main(["rank", str(path)]) == 2
    assert "rank has no candidates" in capsys.readouterr().err
