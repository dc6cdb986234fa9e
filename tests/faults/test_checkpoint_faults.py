"""Damaged and half-swapped checkpoints: a resume falls back to the newest intact one and says
so, finds the damage before reading any data, and fails in one line when nothing is intact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from safetensors.torch import load_file
from torch import nn

import domainfit
from domainfit.cli import main
from domainfit.config import TrainConfig
from domainfit.errors import DataError
from domainfit.train import checkpoint
from domainfit.train.checkpoint import latest_checkpoint, resume_point, save_checkpoint
from domainfit.train.optim import build_optimizer, build_scheduler
from tests.faults.tiny_run import config, no_data_loading, stopped_run

STEP1, STEP2 = "step-00000001", "step-00000002"


def _save(folder: Path, *steps: int) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    opt = build_optimizer([{"params": list(model.parameters())}], TrainConfig(lr=0.1))
    sch = build_scheduler(opt, TrainConfig(lr=0.1), 5)
    for step in steps:
        save_checkpoint(folder, step, model, opt, sch, {"step": step})


def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def _flip(file: Path) -> None:
    data = bytearray(file.read_bytes())
    data[-1] ^= 0xFF
    file.write_bytes(bytes(data))


DAMAGE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "truncated weights": ("model.safetensors", _truncate),
    "truncated optimizer": ("optimizer.pt", _truncate),
    "truncated scheduler": ("scheduler.pt", _truncate),
    "truncated rng": ("rng.pt", _truncate),
    "empty state": ("state.json", lambda f: f.write_text("")),
    "missing rng": ("rng.pt", lambda f: f.unlink()),
}


@pytest.mark.parametrize("manifest", [True, False], ids=["manifest", "older-checkpoint"])
@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_latest_falls_back_to_the_one_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, manifest: bool
) -> None:
    _save(tmp_path, 1, 2)
    if not manifest:  # written before checkpoints had manifests: structural checks only
        for step in (STEP1, STEP2):
            (tmp_path / step / "manifest.json").unlink()
    name, harm = DAMAGE[damage]
    harm(tmp_path / STEP2 / name)
    assert resume_point(tmp_path) == tmp_path / STEP1
    err = capsys.readouterr().err
    assert f"checkpoint {STEP2} is damaged ({name}" in err
    assert f"resuming from {STEP1}" in err


def test_a_flipped_byte_fails_the_checksum(tmp_path: Path) -> None:
    _save(tmp_path, 1, 2)
    _flip(tmp_path / STEP2 / "model.safetensors")  # same size: only the checksum can tell
    assert resume_point(tmp_path) == tmp_path / STEP1


def test_intact_checkpoints_without_manifest_still_resume(tmp_path: Path) -> None:
    _save(tmp_path, 1, 2)
    (tmp_path / STEP2 / "manifest.json").unlink()
    assert resume_point(tmp_path) == tmp_path / STEP2


@pytest.mark.parametrize("pointer", ["", "garbage\n", "step-00000009\n"])
def test_a_bad_pointer_falls_back_to_the_newest_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pointer: str
) -> None:
    _save(tmp_path, 1, 2)
    (tmp_path / "latest").write_text(pointer)
    assert latest_checkpoint(tmp_path) == tmp_path / STEP2
    assert resume_point(tmp_path) == tmp_path / STEP2
    assert f"resuming from {STEP2}" in capsys.readouterr().err


def test_a_step_saved_again_stays_whole_until_its_replacement_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step checkpoint that is also an epoch's end is saved twice: a kill while the second
    is written must still find the first."""
    _save(tmp_path, 1, 2)
    write = checkpoint._write_files

    def checked(*args: Any) -> None:
        assert resume_point(tmp_path) == tmp_path / STEP2  # the first save, untouched
        write(*args)

    monkeypatch.setattr(checkpoint, "_write_files", checked)
    _save(tmp_path, 2)
    assert resume_point(tmp_path) == tmp_path / STEP2
    assert not list(tmp_path.glob(".step-*"))


def test_a_kill_inside_the_swap_resumes_from_the_checkpoint_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, 1, 2)
    # what a kill between "old folder aside" and "new folder in" leaves: latest names nothing
    (tmp_path / STEP2).rename(tmp_path / f".{STEP2}.x1y2.old")
    assert latest_checkpoint(tmp_path) == tmp_path / STEP1
    assert resume_point(tmp_path) == tmp_path / STEP1
    assert f"{STEP2} named by {tmp_path / 'latest'} is missing" in capsys.readouterr().err
    _save(tmp_path, 2)  # training on writes it again and clears what the kill left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", STEP1, STEP2]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, torch.Tensor]:
    tmp = tmp_path_factory.mktemp("reference")
    run = domainfit.fit(config(tmp), out=tmp / "run")
    return load_file(str(run.dir / "model" / "model.safetensors"))


def _same_weights(run: Path, reference: dict[str, torch.Tensor]) -> None:
    got = load_file(str(run / "model" / "model.safetensors"))
    assert got.keys() == reference.keys()
    for key, value in reference.items():
        assert torch.equal(got[key], value), key


def test_a_truncated_latest_is_found_before_the_data_and_the_run_ends_as_uninterrupted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    reference: dict[str, torch.Tensor],
) -> None:
    run = stopped_run(monkeypatch, config(tmp_path), tmp_path / "run", saves=3)
    _truncate(run / "checkpoints" / "step-00000003" / "model.safetensors")
    capsys.readouterr()
    with monkeypatch.context() as m:
        no_data_loading(m)
        with pytest.raises(AssertionError, match="data was loaded"):
            domainfit.fit(resume=run)
    # the warning came before any data was read
    assert "step-00000003 is damaged (model.safetensors" in capsys.readouterr().err
    domainfit.fit(resume=run)
    _same_weights(run, reference)


def test_a_kill_between_an_epochs_two_saves_resumes_from_the_step_before(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    reference: dict[str, torch.Tensor],
) -> None:
    # the 6th save is step 5's second (the epoch's end); the kill lands inside its swap
    run = stopped_run(monkeypatch, config(tmp_path), tmp_path / "run", saves=6)
    ckpts = run / "checkpoints"
    (ckpts / "step-00000005").rename(ckpts / ".step-00000005.abc.old")
    capsys.readouterr()
    domainfit.fit(resume=run)
    assert "resuming from step-00000004" in capsys.readouterr().err
    _same_weights(run, reference)


def test_no_intact_checkpoint_is_one_line_and_exit_2_before_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = stopped_run(monkeypatch, config(tmp_path), tmp_path / "run", saves=3)
    for step in ("step-00000002", "step-00000003"):
        (run / "checkpoints" / step / "state.json").write_text("")
    no_data_loading(monkeypatch)
    with pytest.raises(DataError, match="no intact checkpoint to resume from in"):
        domainfit.fit(resume=run)
    capsys.readouterr()
    assert main(["fit", "--resume", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no intact checkpoint") and "\n" not in err
    assert str(run / "checkpoints") in err and "state.json has 0 of its" in err


def test_resume_before_the_first_checkpoint_says_it_starts_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from domainfit.config_io import dump_config, load_config

    cfg_path = tmp_path / "tiny.yaml"
    cfg_path.write_text(yaml.safe_dump(config(tmp_path)), encoding="utf-8")
    run = tmp_path / "killed-early"  # killed after config.yaml, before any checkpoint
    run.mkdir()
    (run / "config.yaml").write_text(dump_config(load_config(cfg_path)), encoding="utf-8")
    done = domainfit.fit(resume=run)
    assert "training starts from step 0" in capsys.readouterr().err
    assert (done.dir / "model" / "model.safetensors").is_file()
