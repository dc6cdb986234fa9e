"""Augmentations inside the network rather than on its inputs.

- ``mixstyle`` (Zhou et al., ICLR 2021): in training, after the named CNN stages, each sample's
  per-channel feature mean and spread are mixed with another sample's (weight ~ Beta(alpha,
  alpha)), synthesising new "styles" of the source domain. Inactive in evaluation.
- ``fgsm`` / ``pgd`` (Goodfellow et al. 2015; Madry et al. 2018): adversarial training on the
  inputs: the loss is the mean of the clean loss and the loss on inputs perturbed within
  ``eps`` (pixel units for images, input units otherwise) to increase it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn


class MixStyleHook:
    def __init__(self, p: float, alpha: float) -> None:
        self.p, self.alpha = p, alpha

    def __call__(self, module: nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        if not module.training or output.dim() != 4 or output.shape[0] < 2:
            return output
        if float(torch.rand(1)) >= self.p:
            return output
        mu = output.mean((2, 3), keepdim=True)
        sig = (output.var((2, 3), keepdim=True) + 1e-6).sqrt()
        normed = (output - mu.detach()) / sig.detach()
        lam = torch.distributions.Beta(self.alpha, self.alpha).sample((output.shape[0], 1, 1, 1))
        lam = lam.to(output.device, output.dtype)
        perm = torch.randperm(output.shape[0], device=output.device)
        mu_mix = lam * mu + (1 - lam) * mu[perm]
        sig_mix = lam * sig + (1 - lam) * sig[perm]
        return normed * sig_mix.detach() + mu_mix.detach()


def add_mixstyle(inner: nn.Module, layers: list[str], p: float, alpha: float) -> list[Any]:
    """Hooks after each named module of the backbone; unknown names are a ValueError."""
    modules = dict(inner.named_modules())
    missing = [name for name in layers if name not in modules]
    if missing:
        top = [n for n in modules if n and "." not in n]
        raise ValueError(f"no module {missing[0]!r} in the backbone; its stages: {top}")
    hook = MixStyleHook(p, alpha)
    return [modules[name].register_forward_hook(hook) for name in layers]


def adversarial_loss(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batch: dict[str, torch.Tensor],
    eps: torch.Tensor | float,
    steps: int,
    step_size: torch.Tensor | float,
) -> torch.Tensor:
    """The loss on ``batch["x"]`` moved by signed-gradient ascent (``steps`` of ``step_size``)
    and kept within ``eps`` of the original. One step of size eps is FGSM."""
    x0 = batch["x"].detach()
    x = x0.clone()
    for _ in range(steps):
        x.requires_grad_(True)
        loss = loss_fn(model({**batch, "x": x}), batch["labels"])
        (grad,) = torch.autograd.grad(loss, x)
        x = x.detach() + step_size * grad.sign()
        x = torch.max(torch.min(x, x0 + eps), x0 - eps)
    return loss_fn(model({**batch, "x": x.detach()}), batch["labels"])
