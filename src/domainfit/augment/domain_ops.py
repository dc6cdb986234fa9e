"""Domain-adaptive image operations: make source images look like target images.

- ``fda``: Fourier domain adaptation (Yang & Soatto, CVPR 2020): the low-frequency amplitude
  (image-wide colour and illumination) of each source image is replaced by a random target
  image's, its phase (the content) kept. ``beta`` is the half-width of the swapped square as
  a share of the image size.
- ``match_stats``: each channel's mean and spread set to a random target image's.
- ``match_histogram``: each channel's value distribution set to a random target image's
  (rank matching; images are resized to one size upstream, so ranks map one to one).

Each takes ``target``: [0, 1] target images (M, 3, H, W), the target's training split.
"""

from __future__ import annotations

import torch


def _partners(gen: torch.Generator, n: int, target: torch.Tensor) -> torch.Tensor:
    return target[torch.randint(0, target.shape[0], (n,), generator=gen)]


def fda(
    x: torch.Tensor, gen: torch.Generator, target: torch.Tensor, beta: float = 0.05
) -> torch.Tensor:
    t = _partners(gen, x.shape[0], target).to(x.dtype)
    fs, ft = torch.fft.fft2(x), torch.fft.fft2(t)
    amp_s, phase_s, amp_t = fs.abs(), fs.angle(), ft.abs()
    amp_s, amp_t = torch.fft.fftshift(amp_s, dim=(-2, -1)), torch.fft.fftshift(amp_t, dim=(-2, -1))
    h, w = x.shape[-2:]
    b = max(1, int(min(h, w) * beta))
    cy, cx = h // 2, w // 2
    amp_s[..., cy - b : cy + b + 1, cx - b : cx + b + 1] = amp_t[
        ..., cy - b : cy + b + 1, cx - b : cx + b + 1
    ]
    amp = torch.fft.ifftshift(amp_s, dim=(-2, -1))
    out = torch.fft.ifft2(torch.polar(amp, phase_s)).real
    return out.clamp(0, 1)


def match_stats(x: torch.Tensor, gen: torch.Generator, target: torch.Tensor) -> torch.Tensor:
    t = _partners(gen, x.shape[0], target).to(x.dtype)
    mu_s, sd_s = x.mean((-2, -1), keepdim=True), x.std((-2, -1), keepdim=True)
    mu_t, sd_t = t.mean((-2, -1), keepdim=True), t.std((-2, -1), keepdim=True)
    return ((x - mu_s) / (sd_s + 1e-6) * sd_t + mu_t).clamp(0, 1)


def match_histogram(x: torch.Tensor, gen: torch.Generator, target: torch.Tensor) -> torch.Tensor:
    t = _partners(gen, x.shape[0], target).to(x.dtype)
    n, c, h, w = x.shape
    flat_x, flat_t = x.reshape(n, c, -1), t.reshape(n, c, -1)
    order = flat_x.argsort(dim=-1)
    out = torch.empty_like(flat_x)
    out.scatter_(-1, order, flat_t.sort(dim=-1).values)
    return out.reshape(n, c, h, w)
