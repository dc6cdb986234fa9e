"""Data-parallel ``fit`` under torchrun: two CPU processes (gloo) train the same run as one
process does, and only rank 0 writes the run folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

from domainfit.train import distributed


def _table(path: Path, n: int = 240) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    label = np.where(x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0, "yes", "no")
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["label"] = label
    frame.to_csv(path, index=False)
    return path


def _config(tmp_path: Path, **train: object) -> Path:
    """No dropout and no augmentation: nothing random differs between one process and two, so
    the runs differ only in the order floats are summed. A batch of 25 splits 13/12, the last
    batch of the 168 training rows 9/9, and two micro-batches make a step. SGD, not Adam: Adam
    would hide a gradient scaled wrongly by a constant."""
    cfg = {
        "name": "ddp",
        "seed": 3,
        "data": {"source": str(_table(tmp_path / "t.csv"))},
        "model": {"backbone": "mlp:16", "head": {"dropout": 0.0}},
        "train": {
            "epochs": 3,
            "batch_size": 25,
            "grad_accum": 2,
            "optimizer": "sgd",
            "lr": 0.1,
            "schedule": "constant",
            **train,
        },
        "track": {"enabled": False, "report": False},
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _launch(cfg_args: list[str]) -> list[str]:
    """``torchrun`` with two processes on this machine's CPU (gloo)."""
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    return [*launch, "--master_port", str(_free_port()), "-m", "domainfit", "fit", *cfg_args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update({"OMP_NUM_THREADS": "1", "DOMAINFIT_QUIET": "1", "CUDA_VISIBLE_DEVICES": ""})
    return env


def _files(run: Path) -> set[str]:
    return {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()}


def _history(run: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_two_processes_train_like_one(tmp_path: Path) -> None:
    cfg = _config(tmp_path, keep_checkpoints=1)  # rank 0 writes checkpoints, and keeps one
    one, two = tmp_path / "one", tmp_path / "two"
    single = [sys.executable, "-m", "domainfit", "fit", str(cfg), "--out", str(one), "--quiet"]
    subprocess.run(single, check=True, env=_env(), timeout=300)
    # not quiet: rank 1 prints the evaluation too, so it reads the finished run folder
    launch = _launch([str(cfg), "--out", str(two)])
    done = subprocess.run(launch, env=_env(), timeout=300, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]

    # one run folder, the same files as the single process wrote, no stray temporary files
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["one", "two"]
    assert _files(two) == _files(one)
    assert not [f for f in _files(two) if f.endswith(".tmp")]
    assert len(list((two / "checkpoints").glob("step-*"))) == 1

    # float32 sums in another order (each process's stripe, then across processes) move the
    # numbers by ~1e-6 after these 12 steps; 1e-4 leaves a wide margin and still catches a
    # wrong scaling (a mean of means, a gradient counted twice), which moves them by 1e-2
    m1 = json.loads((one / "metrics.json").read_text())
    m2 = json.loads((two / "metrics.json").read_text())
    assert m1.keys() == m2.keys()
    for key, value in m1.items():
        assert m2[key] == pytest.approx(value, abs=1e-4), key
    h1, h2 = _history(one), _history(two)
    assert len(h1) == len(h2) == 3
    for r1, r2 in zip(h1, h2, strict=True):
        assert r1.keys() == r2.keys()
        for key in r1:
            assert r2[key] == pytest.approx(r1[key], abs=1e-4), key
    w1 = load_file(str(one / "model" / "model.safetensors"))
    w2 = load_file(str(two / "model" / "model.safetensors"))
    assert w1.keys() == w2.keys()
    for key in w1:
        torch.testing.assert_close(w2[key], w1[key], atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_two_processes_killed_and_resumed_end_bit_identical(tmp_path: Path) -> None:
    """SIGKILL to the launcher and its workers mid-run; ``--resume`` under torchrun again ends
    with the weights and files of an uninterrupted two-process run, bit for bit."""
    cfg = _config(tmp_path, epochs=100, checkpoint_every_steps=1)  # 400 steps
    ref, run = tmp_path / "ref", tmp_path / "killed"
    ref_args = _launch([str(cfg), "--out", str(ref), "--quiet"])
    subprocess.run(ref_args, check=True, env=_env(), timeout=300)
    proc = subprocess.Popen(
        _launch([str(cfg), "--out", str(run), "--quiet"]), env=_env(), start_new_session=True
    )
    pointer = run / "checkpoints" / "latest"
    deadline = time.time() + 120
    while not (pointer.is_file() and int(pointer.read_text().split("-")[1]) >= 100):
        assert proc.poll() is None, "the run finished before it was killed; raise epochs"
        assert time.time() < deadline, "no checkpoint appeared in time"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    resume = _launch(["--resume", str(run), "--quiet"])
    subprocess.run(resume, check=True, env=_env(), timeout=300)

    w1 = load_file(str(ref / "model" / "model.safetensors"))
    w2 = load_file(str(run / "model" / "model.safetensors"))
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    for name in ("metrics.json", "metrics.jsonl", "losses.jsonl", "evaluation.json"):
        assert (run / name).read_text() == (ref / name).read_text(), name


def test_reduce_step_sums_gradients_and_keeps_missing_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The flat buffer's layout, checked against a stand-in for a second process: a gradient
    present in one process only is summed, one absent everywhere stays None (an optimizer then
    leaves that parameter alone), and the stats come back summed."""
    a, b, c = (torch.nn.Parameter(torch.zeros(shape)) for shape in ((2, 2), (3,), (1,)))
    a.grad = torch.ones(2, 2)
    other = torch.cat([torch.full((4,), 2.0), torch.full((3,), 5.0), torch.zeros(1)])
    other = torch.cat([other, torch.tensor([1.0, 1.0, 0.0, 0.25, 1.0])])  # flags, then stats

    def fake_all_reduce(flat: torch.Tensor) -> None:
        flat += other

    monkeypatch.setattr(distributed, "world_size", lambda: 2)
    monkeypatch.setattr(distributed, "_device", lambda: torch.device("cpu"))
    monkeypatch.setattr(distributed.dist, "all_reduce", fake_all_reduce)
    stats = distributed.reduce_step([a, b, c], [0.5, 0.0])
    assert stats == [0.75, 1.0]
    assert a.grad is not None and torch.equal(a.grad, torch.full((2, 2), 3.0))
    assert b.grad is not None and torch.equal(b.grad, torch.full((3,), 5.0))
    assert c.grad is None


def test_single_process_helpers_are_no_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.full((2,), 0.5)
    assert distributed.world_size() == 1 and distributed.is_main()
    assert distributed.reduce_step([p], [1.5]) == [1.5]
    assert torch.equal(p.grad, torch.full((2,), 0.5))
    assert distributed.from_main(lambda x: x + 1, 1) == 2
    row = {"val.loss": 0.25}
    assert distributed.broadcast_row(row) is row
    batch = {"x": torch.arange(5)}
    assert distributed.stripe(batch, 0, 1) is batch
    assert torch.equal(distributed.stripe(batch, 1, 2)["x"], torch.tensor([1, 3]))
