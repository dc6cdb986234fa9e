"""``linear_probe``: the backbone is fixed, so its features are computed once and cached on
disk (``strategy.cache_dir``, see models/feature_cache.py); the head trains on the cache. Same
arithmetic as ``frozen`` (backbone in eval mode), without running the backbone every epoch:
a second run on the same model, data and input settings does not run it at all."""

from __future__ import annotations

from domainfit.strategies.base import STRATEGIES
from domainfit.strategies.frozen import Frozen


@STRATEGIES.register("linear_probe")
class LinearProbe(Frozen):
    name = "linear_probe"
    caches_features = True
