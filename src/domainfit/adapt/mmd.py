"""Multi-kernel MMD, as in DAN (Long et al., ICML 2015).

The maximum mean discrepancy between the source and target feature distributions in the RKHS of
a kernel K, estimated from the two batches (the biased V-statistic, every pair counted, which
is >= 0 for a positive-definite kernel and defined for any n_s, n_t >= 1):

    MMD^2 = mean_{i,i'} K(s_i, s_i') + mean_{j,j'} K(t_j, t_j') - 2 mean_{i,j} K(s_i, t_j)

K is a sum of Gaussian kernels of several bandwidths (a "multi-kernel", covering scales the
features may live at without tuning one):

    K(x, y) = sum_u exp(-||x - y||^2 / (beta * m_u)),   m_u = 2^(u - (U - 1)/2), u = 0..U-1

(U = 5 by default: multipliers 2^-2 .. 2^2), with beta the mean squared distance between
distinct points of the joint batch [f_s; f_t], detached (a data-driven scale, not something the
features can shrink to escape the loss).

Shapes: f_s (n_s, d), f_t (n_t, d) -> joint squared distances (n_s + n_t, n_s + n_t) -> MMD^2 a
scalar: ~0 for batches from the same distribution, growing with their separation, symmetric in
the two domains. The gradient reaches both batches. Computed in float32 outside autocast.

Options: ``kernels`` (U, default 5).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from domainfit.adapt.base import DOMAIN_LOSSES, DomainLoss, check_features, take_options


def squared_distances(z: torch.Tensor) -> torch.Tensor:
    """(n, n) squared Euclidean distances between the rows of z (n, d), clamped at 0 against
    rounding; O(n^2 + n d) memory."""
    norms = z.pow(2).sum(dim=1)
    return (norms[:, None] + norms[None, :] - 2.0 * (z @ z.T)).clamp_min(0.0)


def multi_kernel_mmd(f_s: torch.Tensor, f_t: torch.Tensor, kernels: int = 5) -> torch.Tensor:
    """Biased multi-Gaussian-kernel MMD^2 between f_s (n_s, d) and f_t (n_t, d) (module
    docstring)."""
    n_s = len(f_s)
    z = torch.cat([f_s, f_t]).float()
    dist = squared_distances(z)
    n = len(z)
    pairs = n * n - n
    beta = (dist.detach().sum() / pairs if pairs else dist.detach().sum()).clamp_min(1e-12)
    kernel = torch.zeros_like(dist)
    for u in range(kernels):
        kernel = kernel + torch.exp(-dist / (beta * 2.0 ** (u - (kernels - 1) / 2)))
    k_ss = kernel[:n_s, :n_s].mean()
    k_tt = kernel[n_s:, n_s:].mean()
    k_st = kernel[:n_s, n_s:].mean()
    return k_ss + k_tt - 2.0 * k_st


@DOMAIN_LOSSES.register("mmd")
class MMDLoss(DomainLoss):
    """Multi-kernel (Gaussian) MMD^2 between the feature batches (module docstring)."""

    name: ClassVar[str] = "mmd"
    needs_logits: ClassVar[bool] = False

    def __init__(self, features: int, classes: int, **options: Any) -> None:
        super().__init__(features, classes)
        opts = take_options(self.name, options, {"kernels": 5})
        kernels = opts["kernels"]
        if not isinstance(kernels, int) or isinstance(kernels, bool) or kernels < 1:
            raise ValueError(f"{self.name}: kernels must be a positive integer, got {kernels!r}")
        self.kernels = kernels

    def forward(
        self,
        f_s: torch.Tensor,
        f_t: torch.Tensor,
        logits_s: torch.Tensor | None = None,
        logits_t: torch.Tensor | None = None,
        progress: float = 1.0,
    ) -> torch.Tensor:
        check_features(self.name, f_s, f_t, self.features)
        with torch.autocast(device_type=f_s.device.type, enabled=False):
            return multi_kernel_mmd(f_s, f_t, self.kernels)
