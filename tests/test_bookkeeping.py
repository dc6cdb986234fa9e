"""What the run list, leaderboards and the disk say about finished runs."""

from __future__ import annotations

from pathlib import Path

from domainfit.report.runfolder import approach_label
from domainfit.track.runs import folder_bytes, headline_test_accuracy
from domainfit.train.checkpoint import LATEST, keep_newest, latest_checkpoint


def test_test_accuracy_prefers_the_target() -> None:
    both = {"final.source.test.accuracy": 0.9, "final.target.test.accuracy": 0.7}
    assert headline_test_accuracy(both) == (0.7, "target.test")
    assert headline_test_accuracy({"final.target.test.accuracy": 0.6}) == (0.6, "target.test")
    assert headline_test_accuracy({"final.source.test.accuracy": 0.8}) == (0.8, "source.test")
    assert headline_test_accuracy({}) == (None, "")


def test_approach_tells_runs_of_one_strategy_apart() -> None:
    assert approach_label("full", None, None) == "full"
    assert approach_label("full", "none", "inductive") == "full"
    assert approach_label("full", "mmd", "inductive") == "full + mmd"
    assert approach_label("full", "dann", "transductive") == "full + dann (transductive)"
    assert approach_label("full", None, None, scratch=True) == "full · from scratch"
    assert approach_label("two_stage", None, None, random_start=True) == "two_stage · random start"


def _checkpoints(folder: Path, steps: list[int]) -> None:
    for step in steps:
        path = folder / f"step-{step:08d}"
        path.mkdir(parents=True)
        (path / "state.json").write_text("{}")
        (path / "model.safetensors").write_bytes(b"x" * 1000)
    (folder / LATEST).write_text(f"step-{steps[-1]:08d}\n")


def test_keep_newest_after_a_finished_run(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    _checkpoints(folder, [10, 20, 30])
    (folder / ".step-00000040.tmp").mkdir()  # a write killed mid-way
    keep_newest(folder, 1)
    assert sorted(p.name for p in folder.iterdir()) == [LATEST, "step-00000030"]
    assert latest_checkpoint(folder) == folder / "step-00000030"
    keep_newest(folder, 0)
    assert not folder.exists()
    keep_newest(folder, 1)  # nothing left: no error


def test_keep_two_keeps_two(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    _checkpoints(folder, [1, 2, 3])
    keep_newest(folder, 2)
    assert sorted(p.name for p in folder.glob("step-*")) == ["step-00000002", "step-00000003"]


def test_folder_bytes(tmp_path: Path) -> None:
    _checkpoints(tmp_path / "run" / "checkpoints", [1, 2])
    assert folder_bytes(tmp_path / "run") == 2 * (1000 + 2) + len("step-00000002\n")
    assert folder_bytes(tmp_path / "missing") is None
