"""Fine-tuning strategies: which parameters train, at which learning rate, and when.

Each is a small registered unit (see ``base.Strategy``). Importing this package registers the
built-in ones.
"""

from __future__ import annotations

from domainfit.strategies import (  # noqa: F401
    bitfit,
    frozen,
    full,
    gradual_unfreeze,
    layerwise_lr,
    linear_probe,
    lora,
    two_stage,
)
from domainfit.strategies.base import STRATEGIES, Strategy, build_strategy, strategy_class

__all__ = ["STRATEGIES", "Strategy", "build_strategy", "strategy_class"]
