"""A run killed with SIGKILL and resumed ends bit-identical to one never interrupted (CPU)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file

from tests.models.tiny import save_tiny_bert, write_reviews_csv


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "domainfit", *args, "--quiet"]


def _config(tmp: Path) -> Path:
    bert = save_tiny_bert(tmp / "bert")
    cfg = {
        "name": "kill",
        "data": {"source": str(write_reviews_csv(tmp / "r.csv", n=160))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16, "head": {"dropout": 0.3}},
        "train": {"epochs": 3, "batch_size": 8, "lr": 3e-3, "checkpoint_every_steps": 1},
        "track": {"enabled": False},
    }
    path = tmp / "kill.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _kill_when(run: Path, proc: subprocess.Popen[bytes], step: int) -> None:
    pointer = run / "checkpoints" / "latest"
    deadline = time.time() + 120
    while time.time() < deadline:
        if pointer.is_file() and int(pointer.read_text().strip().split("-")[1] or 0) >= step:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        if proc.poll() is not None:
            pytest.fail(f"run finished before step {step}; raise epochs")
        time.sleep(0.01)
    proc.kill()
    pytest.fail("no checkpoint appeared in time")


def test_sigkill_mid_epoch_then_resume_is_bit_identical(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(_cli("fit", str(cfg), "--out", str(tmp_path / "ref")), check=True, env=env)

    run = tmp_path / "killed"
    # 112 training rows / 8 = 14 steps per epoch: step 20 is mid-epoch 2; killed twice.
    for step in (5, 20):
        args = ("fit", str(cfg), "--out", str(run)) if step == 5 else ("fit", "--resume", str(run))
        proc = subprocess.Popen(_cli(*args), env=env)
        _kill_when(run, proc, step)
    subprocess.run(_cli("fit", "--resume", str(run)), check=True, env=env)

    ref = load_file(str(tmp_path / "ref" / "model" / "model.safetensors"))
    got = load_file(str(run / "model" / "model.safetensors"))
    assert ref.keys() == got.keys()
    for key in ref:
        assert (ref[key] == got[key]).all(), key
    assert (run / "metrics.json").read_text() == (tmp_path / "ref" / "metrics.json").read_text()
    for name in ("metrics.jsonl", "lr.jsonl", "evaluation.json", "predictions/source.test.csv"):
        assert (run / name).read_text() == (tmp_path / "ref" / name).read_text(), name
