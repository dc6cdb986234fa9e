"""Entropy minimisation (Grandvalet & Bengio, NeurIPS 2004; used for domain adaptation by Long
et al. 2016 and many after): push the model to confident predictions on the unlabelled target
domain, so its decision boundaries move into the target's low-density regions.

    L = 1/n_t sum_j H(p_j),   H(p) = -sum_c p_c log p_c,   p_j = class_probabilities(logits_t,j)

Shapes: logits_t (n_t, k), or a binary head's (n_t,) / (n_t, 1) (read as 2 classes) -> L a
scalar in [0, log k]: log k for uniform predictions, 0 for one-hot ones. The features and the
source logits are not used; the gradient goes to ``logits_t`` only. The entropy is computed from
log-probabilities (log-softmax / log-sigmoid), so confident logits give 0, never NaN.

No options.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F  # noqa: N812

from domainfit.adapt.base import DOMAIN_LOSSES, DomainLoss, require_logits, take_options


def prediction_entropy(logits: torch.Tensor) -> torch.Tensor:
    """(n,) entropies H(p_i) in nats of the predictive distributions of multiclass logits (n, k)
    or a binary head's (n,) / (n, 1); the same p as ``class_probabilities``."""
    logits = logits.float()
    if logits.dim() == 1 or logits.shape[-1] == 1:
        x = logits.reshape(-1)
        log_p = torch.stack([F.logsigmoid(-x), F.logsigmoid(x)], dim=-1)
    else:
        log_p = F.log_softmax(logits, dim=-1)
    return -(log_p.exp() * log_p).sum(dim=-1)


@DOMAIN_LOSSES.register("entropy")
class EntropyLoss(DomainLoss):
    """Mean prediction entropy on the target batch (module docstring has the maths)."""

    name: ClassVar[str] = "entropy"
    needs_logits: ClassVar[bool] = True

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
        logits = require_logits(self.name, logits_t, "logits_t")
        return prediction_entropy(logits).mean()
