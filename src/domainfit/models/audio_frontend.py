"""Waveforms as images: a log-mel spectrogram front-end, so any image backbone hears.

Computed in the forward pass (not once at encoding) so that waveform augmentations act on the
signal itself; 25 ms Hann windows every 10 ms, ``N_MELS`` mel bands (HTK scale), log power,
standardised per clip (the scale an ImageNet-normalised image has), resized to the square
``image_size`` and repeated over three channels. SpecAugment's time and frequency masks apply
here, in training only.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F  # noqa: N812

N_MELS = 64


def _hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def _mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10 ** (m / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filters(sample_rate: int, n_fft: int, n_mels: int = N_MELS) -> torch.Tensor:
    """(n_mels, n_fft // 2 + 1) triangular filters, equally spaced on the mel scale."""
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(
        torch.linspace(0, float(_hz_to_mel(torch.tensor(sample_rate / 2.0))), n_mels + 2)
    )
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lo) / (mid - lo).clamp(min=1e-6)
    down = (hi - freqs[None]) / (hi - mid).clamp(min=1e-6)
    return torch.clamp(torch.minimum(up, down), min=0.0)


def log_mel(wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """(N, n_mels, frames) log mel power."""
    n_fft = 2 ** math.ceil(math.log2(max(16, int(0.025 * sample_rate))))
    hop = max(1, int(0.010 * sample_rate))
    spec = torch.stft(
        wave.float(),
        n_fft=n_fft,
        hop_length=hop,
        window=torch.hann_window(n_fft, device=wave.device),
        return_complex=True,
    )
    power = spec.abs() ** 2
    mel = mel_filters(sample_rate, n_fft).to(wave.device) @ power
    return torch.log(mel + 1e-6)


def spec_augment(spec: torch.Tensor, time: float, freq: float) -> torch.Tensor:
    """One time band and one frequency band per clip set to the clip's mean (Park et al.)."""
    n, bands, frames = spec.shape
    out = spec.clone()
    fill = spec.mean(dim=(1, 2))
    for i in range(n):
        f = int(torch.randint(0, max(1, int(freq * bands)) + 1, (1,)))
        f0 = int(torch.randint(0, bands - f + 1, (1,)))
        t = int(torch.randint(0, max(1, int(time * frames)) + 1, (1,)))
        t0 = int(torch.randint(0, frames - t + 1, (1,)))
        out[i, f0 : f0 + f, :] = fill[i]
        out[i, :, t0 : t0 + t] = fill[i]
    return out


def spectrogram_image(
    wave: torch.Tensor, sample_rate: int, size: int, mask: dict | None = None
) -> torch.Tensor:
    spec = log_mel(wave, sample_rate)
    if mask is not None and float(torch.rand(1)) < float(mask.get("p", 1.0)):
        spec = spec_augment(spec, float(mask.get("time", 0.1)), float(mask.get("freq", 0.1)))
    mean = spec.mean(dim=(1, 2), keepdim=True)
    std = spec.std(dim=(1, 2), keepdim=True).clamp(min=1e-5)
    spec = ((spec - mean) / std).unsqueeze(1)
    img = F.interpolate(spec, size=(size, size), mode="bilinear", align_corners=False)
    return img.repeat(1, 3, 1, 1)
