"""A full disk while saving a checkpoint or the weights: one line naming the folder (exit 2),
the previous checkpoint intact, no half-written folder or file left behind."""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import SafetensorError
from torch import nn

from domainfit.cli import main
from domainfit.config import TrainConfig
from domainfit.errors import DataError
from domainfit.train import checkpoint, run_files
from domainfit.train.checkpoint import resume_point, save_checkpoint
from domainfit.train.optim import build_optimizer, build_scheduler
from domainfit.train.run_files import save_weights
from tests.faults.tiny_run import config, write_config

FULL: dict[str, Exception] = {
    "oserror": OSError(errno.ENOSPC, "No space left on device"),
    "safetensors": SafetensorError(
        "Error while serializing: I/O error: No space left on device (os error 28)"
    ),
    "torch.save": RuntimeError(
        "[enforce fail at inline_container.cc:664] . PytorchStreamWriter failed writing file "
        "data/0: file write failed"
    ),
}


def _model() -> tuple[nn.Module, torch.optim.Optimizer, Any]:
    model = nn.Linear(4, 2)
    opt = build_optimizer([{"params": list(model.parameters())}], TrainConfig(lr=0.1))
    return model, opt, build_scheduler(opt, TrainConfig(lr=0.1), 5)


def _failing(err: Exception, real: Any) -> Any:
    def write(obj: Any, path: Any, *args: Any) -> None:
        real(obj, path, *args)  # part of the file reaches the disk first
        raise err

    return write


@pytest.mark.parametrize("kind", FULL, ids=list(FULL))
@pytest.mark.parametrize("step", [2, 3], ids=["same-step-again", "next-step"])
def test_a_full_disk_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, step: int
) -> None:
    model, opt, sch = _model()
    save_checkpoint(tmp_path, 1, model, opt, sch, {"step": 1})
    save_checkpoint(tmp_path, 2, model, opt, sch, {"step": 2})
    if kind == "torch.save":
        monkeypatch.setattr(torch, "save", _failing(FULL[kind], torch.save))
    else:
        monkeypatch.setattr(checkpoint, "save_file", _failing(FULL[kind], checkpoint.save_file))
    folder = re.escape(str(tmp_path))
    said = f"no space left on the device to write checkpoint step-0+{step} in {folder} \\("
    with pytest.raises(DataError, match=said + ".+ free\\)"):
        save_checkpoint(tmp_path, step, model, opt, sch, {"step": step, "again": True})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "latest",
        "step-00000001",
        "step-00000002",
    ]
    assert resume_point(tmp_path) == tmp_path / "step-00000002"
    assert "again" not in (tmp_path / "step-00000002" / "state.json").read_text()


def test_a_full_disk_keeps_the_previous_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model" / "model.safetensors"
    save_weights(nn.Linear(4, 2), path)
    before = path.read_bytes()
    save_file = run_files.save_file
    monkeypatch.setattr(run_files, "save_file", _failing(FULL["safetensors"], save_file))
    with pytest.raises(DataError, match="to write model.safetensors in .*model"):
        save_weights(nn.Linear(4, 2), path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["model.safetensors"]
    # other write errors are not called a full disk
    monkeypatch.setattr(run_files, "save_file", _failing(OSError(errno.EIO, "I/O"), save_file))
    with pytest.raises(OSError, match="I/O"):
        save_weights(nn.Linear(4, 2), path)
    assert [p.name for p in path.parent.iterdir()] == ["model.safetensors"]


def test_fit_on_a_full_disk_exits_2_with_the_folder_and_can_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, config(tmp_path))
    run = tmp_path / "run"
    real, calls = checkpoint.save_file, [0]

    def third_full(tensors: Any, path: str) -> None:
        calls[0] += 1
        real(tensors, path)
        if calls[0] == 3:
            raise FULL["safetensors"]

    monkeypatch.setattr(checkpoint, "save_file", third_full)
    assert main(["fit", str(cfg), "--out", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no space left on the device to write checkpoint step-00000003")
    assert str(run / "checkpoints") in err and "--resume" in err and "\n" not in err
    ckpts = run / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["latest", "step-00000001", "step-00000002"]
    monkeypatch.setattr(checkpoint, "save_file", real)  # space freed
    assert main(["fit", "--resume", str(run), "--quiet"]) == 0
    assert (run / "run.json").is_file()
