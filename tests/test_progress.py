"""Progress of long steps: heartbeat lines in logs (pytest's captured stderr is not a terminal),
bars on a terminal, nothing in quiet mode; epochs counted from 1 on the console and in files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console
from torch import nn

from domainfit.config import TrainConfig
from domainfit.data import token_cache
from domainfit.data.loaders import EncodedSet
from domainfit.evaluate.outputs import model_outputs
from domainfit.models.feature_cache import compute_features
from domainfit.progress import phase, silenced, stage, track, use_console
from domainfit.progress_phase import ENV_INTERVAL, LIVE
from domainfit.train.trainer import Trainer

FIGURES = re.compile(r" · batch \d+/\d+ · [\d.]+ samples/s · ETA \d+s")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Linear(5, 2)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.body(batch["x"])


def _data(n: int = 32) -> EncodedSet:
    x = np.random.default_rng(0).normal(size=(n, 5)).astype(np.float32)
    return EncodedSet({"x": x}, (x[:, 0] > 0).astype(np.int64))


def _fit(tmp: Path, epochs: int = 2) -> list[dict[str, float]]:
    model = Net()
    cfg = TrainConfig(epochs=epochs, batch_size=8, lr=0.05, optimizer="sgd")
    trainer = Trainer(
        model, nn.CrossEntropyLoss(), [{"params": list(model.parameters())}], cfg, tmp
    )
    return trainer.fit(_data(), _data(16)).history


@pytest.fixture
def every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A heartbeat line after every batch, so quick test loops print theirs."""
    monkeypatch.setenv(ENV_INTERVAL, "0")


def test_heartbeats_come_within_seconds_then_at_most_once_per_interval(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_INTERVAL, "10")
    clock = Clock()
    p = phase("features", 100, clock=clock)
    for t in (0.5, 1.0, 2.5, 3.0, 8.0, 12.4, 12.6, 20.0, 23.0, 30.0):
        clock.now = t
        p.advance(1, samples=16)
    clock.now = 31.0
    p.close()
    lines = capsys.readouterr().err.splitlines()
    # 3 batches of 16 in 2.5 s; 97 batches to go at 2.5 s per 3
    assert lines[0] == "features · batch 3/100 · 19.2 samples/s · ETA 1m21s"
    assert [ln.split(" · ")[1] for ln in lines[1:3]] == ["batch 7/100", "batch 9/100"]
    assert lines[3] == "features · done 10/100 batches · 5.2 samples/s · in 31s"
    assert len(lines) == 4


def test_training_reports_batches_rate_eta_and_loss_in_logs(
    tmp_path: Path, every_batch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    history = _fit(tmp_path)
    lines = capsys.readouterr().err.splitlines()
    train = [ln for ln in lines if ln.startswith("train epoch 1/2 · ")]
    assert len(train) == 4  # 32 rows in batches of 8
    assert all(FIGURES.search(ln) and re.search(r" · loss \d\.\d{4}$", ln) for ln in train)
    assert any(FIGURES.search(ln) for ln in lines if ln.startswith("validating · "))
    assert any(ln.startswith("validating · done 2/2 batches · ") for ln in lines)
    # the console's epoch and the files' (metrics.jsonl rows) agree, counted from 1
    assert [r["epoch"] for r in history] == [1.0, 2.0]
    assert [ln.split(" · ")[0] for ln in lines if ln.startswith("epoch ")] == [
        "epoch 1/2",
        "epoch 2/2",
    ]


def test_feature_caching_and_evaluation_report_in_logs(
    every_batch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    encoder = Net()
    with stage("baseline linear_probe"):
        feats = compute_features(encoder, _data(), 8, "backbone features source.train")
    assert feats.shape == (32, 2)
    model_outputs(encoder, _data(20), "multiclass", 8, label="evaluating source.test")
    lines = capsys.readouterr().err.splitlines()
    cached = [ln for ln in lines if ln.startswith("baseline linear_probe · backbone features ")]
    assert len(cached) == 5 and all(FIGURES.search(ln) for ln in cached[:4])
    assert cached[-1].startswith(
        "baseline linear_probe · backbone features source.train · done 4/4"
    )
    scored = [ln for ln in lines if ln.startswith("evaluating source.test · ")]
    assert scored[0].startswith("evaluating source.test · batch 1/3 · ") and FIGURES.search(
        scored[0]
    )
    assert scored[-1].startswith("evaluating source.test · done 3/3 batches · ")


def test_tokenising_reports_its_chunks_and_ids_match_one_call(
    monkeypatch: pytest.MonkeyPatch, every_batch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def tokenizer(texts: list[str], **_: object) -> dict[str, list[list[int]]]:
        return {"input_ids": [[len(t)] for t in texts]}

    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    monkeypatch.setattr(token_cache, "CHUNK", 2)
    assert token_cache.tokenize(tokenizer, texts, 8) == [[1], [2], [3], [4], [5]]
    lines = capsys.readouterr().err.splitlines()
    assert re.match(r"tokenising · chunk 1/3 · [\d.]+ samples/s · ETA \d+s$", lines[0])
    assert lines[-1].startswith("tokenising · done 3/3 chunks · ")


def test_quiet_mode_prints_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    every_batch: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with silenced():
        _fit(tmp_path / "a")
        compute_features(Net(), _data(), 8)
        list(track(range(5), "loop"))
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("DOMAINFIT_QUIET", "1")
    _fit(tmp_path / "b")
    model_outputs(Net(), _data(), "multiclass", 8)
    assert capsys.readouterr().err == ""


def test_terminal_bars_appear_after_a_second_and_nest_in_one_display(
    capsys: pytest.CaptureFixture[str],
) -> None:
    screen = io.StringIO()
    clock = Clock()
    with use_console(Console(file=screen, force_terminal=True, width=120)):
        p = phase("backbone features", 10, clock=clock)
        clock.now = 0.5
        p.advance(1, samples=8)
        assert LIVE.progress is None  # a quick loop never flashes a bar
        clock.now = 1.5
        p.advance(1, samples=8)
        assert LIVE.progress is not None
        inner = phase("validating", 4, bar_after=0.0, clock=clock)  # a row in the same display
        rows = {t.description: t for t in LIVE.progress.tasks}
        assert set(rows) == {"backbone features", "validating"}
        shown = rows["backbone features"]
        assert shown.completed == 2
        assert shown.fields["rate"] == "10.7 samples/s" and shown.fields["eta"] == "ETA 6s"
        inner.close()
        p.close()
        assert LIVE.progress is None
    assert "backbone features" in screen.getvalue()
    assert capsys.readouterr().err == ""  # the bars went to the terminal, no log lines
