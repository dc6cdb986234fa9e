"""Domain adaptation: deep losses between source and target features (one registered file per
method), self-training with pseudo-labels, classic feature-level methods for feature data, and
label-free validators for choosing a model without target labels."""

from __future__ import annotations

from domainfit.adapt import cdan, coral, dann, entropy, mmd  # noqa: F401  (register the methods)
from domainfit.adapt.base import DOMAIN_LOSSES, DomainLoss, class_probabilities, dann_coefficient

__all__ = ["DOMAIN_LOSSES", "DomainLoss", "class_probabilities", "dann_coefficient"]
