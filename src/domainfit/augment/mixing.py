"""Mixing two samples and their labels: mixup (Zhang et al. 2018), cutmix (Yun et al. 2019).

Labels become soft: class probabilities (N, C) for multi-class heads, a float for binary heads
and regression. Cross-entropy with probability targets and BCE with float targets take them
as they are.
"""

from __future__ import annotations

import torch


def soft_labels(labels: torch.Tensor, task: str, n_classes: int) -> torch.Tensor:
    if task == "multiclass" and labels.dim() == 1:
        return torch.nn.functional.one_hot(labels.long(), n_classes).float()
    return labels.float()


def draw_lambda(gen: torch.Generator, alpha: float) -> float:
    dist = torch.distributions.Beta(torch.tensor(alpha), torch.tensor(alpha))
    # Beta draws from torch's global generator: seed it from ours inside a fork
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return float(dist.sample())


def mixup(
    x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, alpha: float = 0.2
) -> tuple[torch.Tensor, torch.Tensor]:
    lam = draw_lambda(gen, alpha)
    perm = torch.randperm(x.shape[0], generator=gen).to(x.device)
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]


def cutmix(
    x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, alpha: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A box of each image replaced by the same box of a partner; labels weighted by area."""
    n, _, h, w = x.shape
    lam = draw_lambda(gen, alpha)
    perm = torch.randperm(n, generator=gen).to(x.device)
    ch, cw = int(h * (1 - lam) ** 0.5), int(w * (1 - lam) ** 0.5)
    cy = int(torch.randint(0, h, (1,), generator=gen))
    cx = int(torch.randint(0, w, (1,), generator=gen))
    top, bottom = max(0, cy - ch // 2), min(h, cy + ch // 2)
    left, right = max(0, cx - cw // 2), min(w, cx + cw // 2)
    out = x.clone()
    out[:, :, top:bottom, left:right] = x[perm, :, top:bottom, left:right]
    kept = 1.0 - (bottom - top) * (right - left) / (h * w)
    return out, kept * y + (1 - kept) * y[perm]
