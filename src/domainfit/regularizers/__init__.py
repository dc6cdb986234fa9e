"""Transfer regularisers (``regularize`` section): L1, L2-SP, a dropout override, frozen
BatchNorm, and the weight-decay exemption of biases and norms. Strategies apply them through
their hooks (penalty, set_train_mode, param_groups); importing this package registers them."""

from __future__ import annotations

from domainfit.regularizers import bn, dropout, l1, l2sp  # noqa: F401
from domainfit.regularizers.base import REGULARIZERS, Regularizer, Target, build_regularizers
from domainfit.regularizers.decay import no_decay_ids, split_decay

__all__ = [
    "REGULARIZERS",
    "Regularizer",
    "Target",
    "build_regularizers",
    "no_decay_ids",
    "split_decay",
]
