"""The ``DomainLoss`` contract: a loss between source and target batches that the trainer adds,
weighted, to the task loss. Each method is one file registered by name in ``DOMAIN_LOSSES``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from domainfit.registry import Registry

DOMAIN_LOSSES: Registry[type[DomainLoss]] = Registry("adaptation method")


class DomainLoss(nn.Module):
    """``forward(f_s, f_t, logits_s=None, logits_t=None, progress=1.0) -> scalar``.

    ``f_s`` (n_s, d) and ``f_t`` (n_t, d) are the backbone's features of a source and a target
    batch; ``logits_s``/``logits_t`` the head's outputs on them ((n, k), or (n,) / (n, 1) for a
    binary head), passed to methods with ``needs_logits``. ``progress`` in [0, 1] is the fraction
    of training done, for methods whose own schedule depends on it (DANN's gradient-reversal
    coefficient). No hidden state changes between calls except learnable parameters (a
    discriminator's), which the trainer optimises with the model.

    ``features``: d; ``classes``: k (1 for a binary head's single logit means 2 classes).
    """

    name: ClassVar[str] = ""
    needs_logits: ClassVar[bool] = False

    def __init__(self, features: int, classes: int, **options: Any) -> None:
        super().__init__()
        self.features = features
        self.classes = classes

    def forward(
        self,
        f_s: torch.Tensor,
        f_t: torch.Tensor,
        logits_s: torch.Tensor | None = None,
        logits_t: torch.Tensor | None = None,
        progress: float = 1.0,
    ) -> torch.Tensor:
        raise NotImplementedError


def class_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """(n, k) probabilities from multiclass logits (n, k) or a binary head's (n,) / (n, 1)."""
    if logits.dim() == 1 or logits.shape[-1] == 1:
        p1 = torch.sigmoid(logits.reshape(-1))
        return torch.stack([1 - p1, p1], dim=-1)
    return torch.softmax(logits, dim=-1)


def dann_coefficient(progress: float, gamma: float = 10.0) -> float:
    """Ganin et al.'s ramp for the adversarial weight: 2 / (1 + exp(-gamma p)) - 1, p in [0, 1]
    the fraction of training done; 0 at the start (the discriminator sees noise), ~1 at the end."""
    p = min(max(progress, 0.0), 1.0)
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


def take_options(
    method: str, options: Mapping[str, Any], defaults: Mapping[str, Any]
) -> dict[str, Any]:
    """``defaults`` updated with ``options``; a key ``defaults`` lacks (a typo) is a TypeError
    (as Python's for an unexpected keyword argument) naming the method and the options it knows.
    Methods check the values themselves and raise ValueError for bad ones."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(
            f"{method}: unknown option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(defaults)) or 'none'}"
        )
    return {**defaults, **options}


def check_features(method: str, f_s: torch.Tensor, f_t: torch.Tensor, features: int) -> None:
    """ValueError unless ``f_s`` (n_s, d) and ``f_t`` (n_t, d) are non-empty 2-D batches with
    d == ``features``."""
    for which, f in (("f_s", f_s), ("f_t", f_t)):
        if f.dim() != 2 or f.shape[0] == 0 or f.shape[1] != features:
            raise ValueError(
                f"{method}: {which} must be a non-empty (n, {features}) batch of features, "
                f"got shape {tuple(f.shape)}"
            )


def require_logits(
    method: str, logits: torch.Tensor | None, which: str, n: int | None = None
) -> torch.Tensor:
    """``logits`` (``which``: 'logits_s' or 'logits_t') of shape (n,), (n, 1) or (n, k), or a
    ValueError naming the method when they are missing, empty, or (with ``n``) of another batch
    size than the features'."""
    if logits is None:
        raise ValueError(
            f"{method} needs {which} (the head's outputs on the batch) but got None; "
            "pass the logits for methods with needs_logits"
        )
    if logits.dim() not in (1, 2) or logits.shape[0] == 0 or (n is not None and len(logits) != n):
        expected = "a non-empty batch" if n is None else f"n = {n}, the features' batch size"
        raise ValueError(
            f"{method}: {which} must be (n,), (n, 1) or (n, k) with {expected}, "
            f"got shape {tuple(logits.shape)}"
        )
    return logits
