"""Waveform operations on a batch of clips (N, T) at one sample rate; each clip draws its own
parameters. Lengths are kept (a stretched or sped-up clip is re-centred in its window)."""

from __future__ import annotations

import math

import torch

from domainfit.data.sources.audio_folder import fit_length


def _uniform(gen: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def _fit(x: torch.Tensor, n: int) -> torch.Tensor:
    return torch.from_numpy(fit_length(x.detach().cpu().numpy().astype("float32"), n))


def gain(
    x: torch.Tensor, gen: torch.Generator, sr: int, low: float = -6.0, high: float = 6.0
) -> torch.Tensor:
    """Louder or softer by a gain in dB drawn per clip."""
    db = _uniform(gen, x.shape[0], low, high)
    return x * (10 ** (db / 20))[:, None]


def noise(
    x: torch.Tensor, gen: torch.Generator, sr: int, snr_low: float = 10.0, snr_high: float = 30.0
) -> torch.Tensor:
    """White noise at a signal-to-noise ratio (dB) drawn per clip."""
    snr = _uniform(gen, x.shape[0], snr_low, snr_high)
    power = x.pow(2).mean(dim=1).clamp(min=1e-10)
    scale = (power / 10 ** (snr / 10)).sqrt()
    return x + scale[:, None] * torch.randn(x.shape, generator=gen)


def time_shift(
    x: torch.Tensor, gen: torch.Generator, sr: int, fraction: float = 0.1
) -> torch.Tensor:
    out = torch.zeros_like(x)
    n = x.shape[1]
    shifts = (_uniform(gen, x.shape[0], -fraction, fraction) * n).round().long()
    for i, s in enumerate(shifts.tolist()):
        if s >= 0:
            out[i, s:] = x[i, : n - s]
        else:
            out[i, :s] = x[i, -s:]
    return out


def _resample(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Play ``factor`` times faster: shorter by it, pitch up by it (linear interpolation)."""
    n = max(2, round(x.shape[0] / factor))
    pos = torch.linspace(0, x.shape[0] - 1, n)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=x.shape[0] - 1)
    frac = pos - lo
    return x[lo] * (1 - frac) + x[hi] * frac


def speed(
    x: torch.Tensor, gen: torch.Generator, sr: int, low: float = 0.9, high: float = 1.1
) -> torch.Tensor:
    rates = _uniform(gen, x.shape[0], low, high)
    return torch.stack([_fit(_resample(x[i], float(r)), x.shape[1]) for i, r in enumerate(rates)])


def _stretch(x: torch.Tensor, rate: float, n_fft: int = 512) -> torch.Tensor:
    """Phase-vocoder time stretch: ``rate`` times faster, pitch kept."""
    hop = n_fft // 4
    window = torch.hann_window(n_fft)
    spec = torch.stft(x, n_fft, hop, window=window, return_complex=True)
    frames = spec.shape[1]
    steps = torch.arange(0, frames - 1, rate)
    advance = torch.linspace(0, math.pi * hop, spec.shape[0])
    phase = spec[:, 0].angle()
    out = []
    for t in steps.tolist():
        i, frac = int(t), t - int(t)
        mag = (1 - frac) * spec[:, i].abs() + frac * spec[:, i + 1].abs()
        out.append(torch.polar(mag, phase))
        delta = spec[:, i + 1].angle() - spec[:, i].angle() - advance
        delta = delta - 2 * math.pi * torch.round(delta / (2 * math.pi))
        phase = phase + advance + delta
    stretched = torch.stack(out, dim=1)
    return torch.istft(stretched, n_fft, hop, window=window)


def time_stretch(
    x: torch.Tensor, gen: torch.Generator, sr: int, low: float = 0.8, high: float = 1.25
) -> torch.Tensor:
    rates = _uniform(gen, x.shape[0], low, high)
    return torch.stack([_fit(_stretch(x[i], float(r)), x.shape[1]) for i, r in enumerate(rates)])


def pitch_shift(
    x: torch.Tensor, gen: torch.Generator, sr: int, semitones: float = 2.0
) -> torch.Tensor:
    """Stretch by the pitch factor, then play that much faster: pitch moves, length stays."""
    steps = _uniform(gen, x.shape[0], -semitones, semitones)
    out = []
    for i, s in enumerate(steps.tolist()):
        factor = 2 ** (s / 12)
        out.append(_fit(_resample(_stretch(x[i], 1 / factor), factor), x.shape[1]))
    return torch.stack(out)
