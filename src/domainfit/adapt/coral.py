"""Deep CORAL: correlation alignment (Sun & Saenko, ECCV 2016 workshops).

Align the second-order statistics of the two domains' features:

    C = 1/(n - 1) (X - 1 mu^T)^T (X - 1 mu^T)      the unbiased covariance of a batch X (n, d)

    L = || C_s - C_t ||_F^2 / (4 d^2)

Shapes: f_s (n_s, d), f_t (n_t, d) with n_s, n_t >= 2 -> C_s, C_t (d, d) -> L a scalar >= 0,
0 when the two batches have the same covariance (a pure mean shift is *not* penalised). The
gradient reaches both batches. Computed in float32 outside autocast: covariances are sums of
many products, which half precision rounds badly.

No options.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from domainfit.adapt.base import DOMAIN_LOSSES, DomainLoss, check_features, take_options


def covariance(x: torch.Tensor) -> torch.Tensor:
    """(d, d) unbiased covariance of the rows of x (n, d), n >= 2."""
    centred = x - x.mean(dim=0, keepdim=True)
    return centred.T @ centred / (len(x) - 1)


@DOMAIN_LOSSES.register("coral")
class CORALLoss(DomainLoss):
    """Squared Frobenius distance of the batch covariances / 4 d^2 (module docstring)."""

    name: ClassVar[str] = "coral"
    needs_logits: ClassVar[bool] = False

    def __init__(self, features: int, classes: int, **options: Any) -> None:
        super().__init__(features, classes)
        take_options(self.name, options, {})

    def forward(
        self,
        f_s: torch.Tensor,
        f_t: torch.Tensor,
        logits_s: torch.Tensor | None = None,
        logits_t: torch.Tensor | None = None,
        progress: float = 1.0,
    ) -> torch.Tensor:
        check_features(self.name, f_s, f_t, self.features)
        if len(f_s) < 2 or len(f_t) < 2:
            raise ValueError(
                f"{self.name}: needs at least 2 samples per domain for a covariance, "
                f"got n_s={len(f_s)}, n_t={len(f_t)}"
            )
        with torch.autocast(device_type=f_s.device.type, enabled=False):
            diff = covariance(f_s.float()) - covariance(f_t.float())
            d = f_s.shape[1]
            return diff.pow(2).sum() / (4 * d * d)
