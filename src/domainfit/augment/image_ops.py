"""Image operations on a batch of [0, 1] images (N, 3, H, W); each sample draws its own random
parameters from the batch's generator. Geometry keeps the image size."""

from __future__ import annotations

import math

import torch
from torchvision.transforms.v2 import functional as F  # noqa: N812


def _uniform(gen: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def hflip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return x.flip(-1)


def vflip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return x.flip(-2)


def affine(
    x: torch.Tensor,
    gen: torch.Generator,
    degrees: float = 0.0,
    translate: float = 0.0,
    scale: tuple[float, float] = (1.0, 1.0),
) -> torch.Tensor:
    """Rotation by up to ``degrees``, shift by up to ``translate`` of the size, zoom within
    ``scale``; uncovered pixels are filled with black (0)."""
    n, _, h, w = x.shape
    angles = _uniform(gen, n, -degrees, degrees)
    dx = _uniform(gen, n, -translate, translate) * w
    dy = _uniform(gen, n, -translate, translate) * h
    zoom = _uniform(gen, n, scale[0], scale[1])
    out = [
        F.affine(
            x[i],
            angle=float(angles[i]),
            translate=[round(float(dx[i])), round(float(dy[i]))],
            scale=float(zoom[i]),
            shear=[0.0, 0.0],
        )
        for i in range(n)
    ]
    return torch.stack(out)


def rotate(x: torch.Tensor, gen: torch.Generator, degrees: float = 15.0) -> torch.Tensor:
    return affine(x, gen, degrees=degrees)


def translate(x: torch.Tensor, gen: torch.Generator, fraction: float = 0.1) -> torch.Tensor:
    return affine(x, gen, translate=fraction)


def scale(
    x: torch.Tensor, gen: torch.Generator, low: float = 0.8, high: float = 1.2
) -> torch.Tensor:
    return affine(x, gen, scale=(low, high))


def resized_crop(
    x: torch.Tensor,
    gen: torch.Generator,
    area: tuple[float, float] = (0.6, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> torch.Tensor:
    """A random crop covering ``area`` of the image at aspect ``ratio``, resized back."""
    n, _, h, w = x.shape
    out = []
    for i in range(n):
        a = float(_uniform(gen, 1, *area)) * h * w
        r = math.exp(float(_uniform(gen, 1, math.log(ratio[0]), math.log(ratio[1]))))
        ch = max(1, min(h, round(math.sqrt(a / r))))
        cw = max(1, min(w, round(math.sqrt(a * r))))
        top = int(torch.randint(0, h - ch + 1, (1,), generator=gen))
        left = int(torch.randint(0, w - cw + 1, (1,), generator=gen))
        out.append(F.resized_crop(x[i], top, left, ch, cw, [h, w], antialias=True))
    return torch.stack(out)


def color_jitter(
    x: torch.Tensor,
    gen: torch.Generator,
    brightness: float = 0.3,
    contrast: float = 0.3,
    saturation: float = 0.3,
    hue: float = 0.0,
) -> torch.Tensor:
    n = x.shape[0]
    b = _uniform(gen, n, 1 - brightness, 1 + brightness)
    c = _uniform(gen, n, 1 - contrast, 1 + contrast)
    s = _uniform(gen, n, 1 - saturation, 1 + saturation)
    hh = _uniform(gen, n, -hue, hue)
    out = []
    for i in range(n):
        img = F.adjust_brightness(x[i], float(b[i]))
        img = F.adjust_contrast(img, float(c[i]))
        img = F.adjust_saturation(img, float(s[i]))
        if hue:
            img = F.adjust_hue(img, float(hh[i]))
        out.append(img)
    return torch.stack(out).clamp(0, 1)


def grayscale(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return F.rgb_to_grayscale(x, num_output_channels=3)


def blur(x: torch.Tensor, gen: torch.Generator, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian blur with a per-sample sigma in (0.1, ``sigma``]."""
    n = x.shape[0]
    sig = _uniform(gen, n, 0.1, max(0.1, sigma))
    out = []
    for i in range(n):
        k = 2 * math.ceil(2 * float(sig[i])) + 1
        out.append(F.gaussian_blur(x[i], [k, k], [float(sig[i])] * 2))
    return torch.stack(out)


def noise(x: torch.Tensor, gen: torch.Generator, std: float = 0.05) -> torch.Tensor:
    return (x + std * torch.randn(x.shape, generator=gen).to(x.device)).clamp(0, 1)


def _policy(x: torch.Tensor, gen: torch.Generator, transform: object) -> torch.Tensor:
    """torchvision's policies draw from torch's global generator: it is seeded from ours
    inside a fork, so runs repeat and the caller's random state is left alone."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        u8 = (x * 255).round().to(torch.uint8)
        out = torch.stack([transform(img) for img in u8])  # type: ignore[operator]
    return out.float() / 255


def randaugment(
    x: torch.Tensor, gen: torch.Generator, num_ops: int = 2, magnitude: int = 9
) -> torch.Tensor:
    from torchvision.transforms import v2

    return _policy(x, gen, v2.RandAugment(num_ops=num_ops, magnitude=magnitude))


def trivialaugment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    from torchvision.transforms import v2

    return _policy(x, gen, v2.TrivialAugmentWide())
