"""DANN: domain-adversarial training (Ganin & Lempitsky, ICML 2015; Ganin et al., JMLR 2016).

A domain discriminator D: R^d -> R (one logit, "this sample is from the source") learns to tell
source features from target features, while the feature extractor learns to fool it. Both play
the same loss through a gradient reversal layer R_c between the features and D:

    R_c(f) = f                      (forward: identity)
    dR_c/df = -c * I                (backward: the gradient is negated and scaled by c)

    L = 1/2 [ mean_{i<=n_s} BCE(D(R_c(f_s,i)), 1) + mean_{j<=n_t} BCE(D(R_c(f_t,j)), 0) ]

so one backward pass of L gives D the ordinary gradient of its classification loss (D learns at
full rate) and gives the features -c times that gradient (they move to *increase* D's loss,
making the two domains indistinguishable). The two domain terms are averaged separately, so
n_s != n_t does not tilt D towards the larger batch.

c follows Ganin's ramp ``dann_coefficient(progress)`` = 2 / (1 + exp(-gamma p)) - 1 (option
``schedule="dann"``, the default: 0 at the start, while D's signal is noise, ~1 from about a
third of training on), or stays 1 (``schedule="constant"``). The trainer's weight on L scales
both players alike.

Shapes: f_s (n_s, d), f_t (n_t, d) -> D's logits (n_s,), (n_t,) -> L a scalar.

D is the paper's MLP: d -> h -> ReLU -> dropout -> h -> ReLU -> dropout -> 1, with h the option
``hidden`` (default min(1024, max(256, d))) and ``dropout`` (default 0.5). Its parameters belong
to this module; the trainer optimises them with the model.

Options: ``hidden``, ``dropout``, ``schedule`` ("dann" | "constant"), ``gamma`` (10).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from domainfit.adapt.base import (
    DOMAIN_LOSSES,
    DomainLoss,
    check_features,
    dann_coefficient,
    take_options,
)

SCHEDULES = ("dann", "constant")


class GradientReversal(torch.autograd.Function):
    """Identity forward; backward multiplies the incoming gradient by -coefficient."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, coefficient: float) -> torch.Tensor:
        ctx.coefficient = float(coefficient)
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * -ctx.coefficient, None


def reverse_gradient(x: torch.Tensor, coefficient: float) -> torch.Tensor:
    """x unchanged, but the gradient flowing back through it is multiplied by -coefficient."""
    out = GradientReversal.apply(x, coefficient)
    assert isinstance(out, torch.Tensor)
    return out


def default_hidden(inputs: int) -> int:
    """The discriminator's width: the input width, kept within [256, 1024]."""
    return min(1024, max(256, inputs))


class DomainDiscriminator(nn.Sequential):
    """(n, inputs) -> (n,) logits of "source": inputs -> hidden -> ReLU -> dropout -> hidden ->
    ReLU -> dropout -> 1."""

    def __init__(self, inputs: int, hidden: int, dropout: float = 0.5) -> None:
        super().__init__(
            nn.Linear(inputs, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self[0].weight
        return super().forward(x.to(weight.dtype)).squeeze(-1)


def reversal_coefficient(schedule: str, progress: float, gamma: float) -> float:
    """c for the gradient reversal: Ganin's ramp at ``progress`` ("dann") or 1 ("constant")."""
    return dann_coefficient(progress, gamma) if schedule == "dann" else 1.0


def domain_bce(
    logit_s: torch.Tensor,
    logit_t: torch.Tensor,
    weight_s: torch.Tensor | None = None,
    weight_t: torch.Tensor | None = None,
) -> torch.Tensor:
    """1/2 (BCE of source logits (n_s,) against 1 + BCE of target logits (n_t,) against 0), each
    a (weighted) mean over its own domain; weights (n,) are normalised to sum to 1 per domain."""

    def term(logit: torch.Tensor, label: float, weight: torch.Tensor | None) -> torch.Tensor:
        logit = logit.float()
        losses = F.binary_cross_entropy_with_logits(
            logit, torch.full_like(logit, label), reduction="none"
        )
        if weight is None:
            return losses.mean()
        weight = weight.to(losses.dtype)
        return (losses * weight).sum() / weight.sum()

    return 0.5 * (term(logit_s, 1.0, weight_s) + term(logit_t, 0.0, weight_t))


def adversarial_options(method: str, options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The options DANN-like methods share (``hidden``, ``dropout``, ``schedule``, ``gamma``),
    plus ``extra`` defaults, validated."""
    opts = take_options(
        method,
        options,
        {"hidden": None, "dropout": 0.5, "schedule": "dann", "gamma": 10.0, **extra},
    )
    if opts["schedule"] not in SCHEDULES:
        raise ValueError(
            f"{method}: schedule must be one of {', '.join(SCHEDULES)}, got {opts['schedule']!r}"
        )
    if opts["hidden"] is not None and (
        not isinstance(opts["hidden"], int)
        or isinstance(opts["hidden"], bool)
        or opts["hidden"] < 1
    ):
        raise ValueError(f"{method}: hidden must be a positive integer, got {opts['hidden']!r}")
    if not 0.0 <= float(opts["dropout"]) < 1.0:
        raise ValueError(f"{method}: dropout must be in [0, 1), got {opts['dropout']!r}")
    if float(opts["gamma"]) <= 0:
        raise ValueError(f"{method}: gamma must be positive, got {opts['gamma']!r}")
    return opts


@DOMAIN_LOSSES.register("dann")
class DANNLoss(DomainLoss):
    """Domain-adversarial loss: a discriminator on gradient-reversed features (module docstring
    has the maths)."""

    name: ClassVar[str] = "dann"
    needs_logits: ClassVar[bool] = False

    def __init__(self, features: int, classes: int, **options: Any) -> None:
        super().__init__(features, classes)
        opts = adversarial_options(self.name, options)
        self.schedule: str = opts["schedule"]
        self.gamma = float(opts["gamma"])
        hidden = opts["hidden"] or default_hidden(features)
        self.discriminator = DomainDiscriminator(features, hidden, float(opts["dropout"]))

    def coefficient(self, progress: float) -> float:
        return reversal_coefficient(self.schedule, progress, self.gamma)

    def forward(
        self,
        f_s: torch.Tensor,
        f_t: torch.Tensor,
        logits_s: torch.Tensor | None = None,
        logits_t: torch.Tensor | None = None,
        progress: float = 1.0,
    ) -> torch.Tensor:
        check_features(self.name, f_s, f_t, self.features)
        c = self.coefficient(progress)
        logit = self.discriminator(reverse_gradient(torch.cat([f_s, f_t]), c))
        return domain_bce(logit[: len(f_s)], logit[len(f_s) :])
