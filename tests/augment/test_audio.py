"""Audio: a WAV-folder source, spectrograms for image backbones, waveform augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import wavfile

import domainfit
from domainfit.augment import audio_ops

RATE = 8000


def tone(freq: float, seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).normal(0, 0.05, len(t))
    return (0.5 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


def write_tones(root: Path, n: int = 12) -> Path:
    """Two classes a spectrogram tells apart: low tones and high tones, varied lengths."""
    for cls, base in (("low", 300.0), ("high", 1500.0)):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            rate = RATE if i % 2 else 2 * RATE  # half the files need resampling
            clip = tone(base * (1 + 0.05 * (i % 4)), 0.3 + 0.05 * (i % 3), rate=rate, seed=i)
            pcm = (clip * 32767).astype(np.int16)  # integer PCM, as most recorders write
            wavfile.write(root / cls / f"{i}.wav", rate, pcm)
    return root


def dominant(x: np.ndarray, rate: int = RATE) -> float:
    spec = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spec.argmax()])


def test_audio_folder_reads_resamples_and_aligns(tmp_path: Path) -> None:
    root = write_tones(tmp_path / "tones", n=4)
    from domainfit.config import DataSpec
    from domainfit.data.load import load_domain

    ds = load_domain(DataSpec(spec=str(root), sample_rate=RATE))
    assert ds.kind == "features" and ds.meta["audio"]["sample_rate"] == RATE
    assert ds.inputs.shape == (8, int(0.4 * RATE))  # the longest clip sets the window
    assert sorted(set(ds.labels)) == ["high", "low"]
    first_high = ds.ids.index("high/0.wav")  # written at twice the rate: resampled
    assert abs(dominant(ds.inputs[first_high]) - 1500) < 30


def test_audio_trains_an_image_backbone_with_augmentation(tmp_path: Path) -> None:
    root = write_tones(tmp_path / "tones", n=16)
    cfg = {
        "data": {"source": {"spec": str(root), "sample_rate": RATE}},
        "model": {"backbone": "timm:resnet10t", "image_size": 32},
        "train": {"epochs": 6, "batch_size": 8, "lr": 3e-3},
        "augment": [
            {"op": "gain", "p": 0.5},
            {"op": "audio_noise", "snr_low": 20, "p": 0.5},
            {"op": "time_shift", "p": 0.5},
            {"op": "spec_mask", "p": 0.5},
            {"op": "mixup", "p": 0.3},
        ],
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    # predict reads new audio as training read it (same rate, window, spectrogram)
    preds = domainfit.predict(run.dir, str(root), tmp_path / "p.csv")
    assert len(preds) == 32
    assert (preds["prediction"].astype(str) == preds["label"].astype(str)).mean() >= 0.85


def test_waveform_ops() -> None:
    x = torch.from_numpy(np.stack([tone(440, 0.5, seed=i) for i in range(3)]))
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    loud = audio_ops.gain(x, gen(), RATE, low=6, high=6)
    assert torch.allclose(loud, x * 10 ** (6 / 20))
    noisy = audio_ops.noise(x, gen(), RATE, snr_low=10, snr_high=10)
    snr = 10 * torch.log10(x.pow(2).mean(1) / (noisy - x).pow(2).mean(1))
    assert torch.allclose(snr, torch.full((3,), 10.0), atol=0.5)
    for op, params, expect in (
        (audio_ops.speed, {"low": 1.2, "high": 1.2}, 440 * 1.2),
        (audio_ops.time_stretch, {"low": 1.2, "high": 1.2}, 440),  # pitch kept
        (audio_ops.pitch_shift, {"semitones": 3}, None),
    ):
        y = op(x, gen(), RATE, **params)
        assert y.shape == x.shape
        if expect is not None:
            assert abs(dominant(y[0].numpy()) - expect) < 25
    shifted = audio_ops.pitch_shift(x, gen(), RATE, semitones=3.0)
    drawn = audio_ops._uniform(gen(), 3, -3.0, 3.0)  # the semitones each clip got
    for clip, st in zip(shifted, drawn.tolist(), strict=True):
        assert abs(dominant(clip.numpy()) - 440 * 2 ** (st / 12)) < 25  # pitch moved, length kept


@pytest.mark.parametrize("n", [3])
def test_audio_preview_writes_spectrograms_and_wavs(n: int, tmp_path: Path) -> None:
    import yaml

    from domainfit.cli import main

    root = write_tones(tmp_path / "tones", n=4)
    cfg = {
        "data": {"source": {"spec": str(root), "sample_rate": RATE}},
        "model": {"backbone": "timm:resnet10t", "image_size": 32},
        "augment": [{"op": "pitch_shift", "semitones": 4}],
    }
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["augment-preview", str(path), "--n", str(n), "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "augment_preview.png").is_file()
    assert len(list((tmp_path / "p").glob("*.wav"))) == 2 * n
