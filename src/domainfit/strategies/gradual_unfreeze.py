"""``gradual_unfreeze`` (Howard & Ruder, 2018, ULMFiT): the head trains first; every
``strategy.unfreeze_every`` epochs one more backbone group joins, from the top down, until
``strategy.unfreeze_top`` groups (default all) train. Deep layers are the most task-specific,
so they adapt first while shallow, general features are protected longest."""

from __future__ import annotations

from domainfit.strategies.base import HEAD, STRATEGIES, Strategy


@STRATEGIES.register("gradual_unfreeze")
class GradualUnfreeze(Strategy):
    name = "gradual_unfreeze"
    uses_layer_decay = True  # ULMFiT pairs it with discriminative (decayed) learning rates

    def group_lrs(self) -> dict[str, float]:
        lr = self.cfg.train.lr
        top = self.top_groups(self.cfg.strategy.unfreeze_top)
        return {HEAD: lr, **{g.name: self.decayed(lr, d) for d, g in enumerate(top, start=1)}}

    def trains_in(self, epoch: int) -> set[str] | None:
        top = self.top_groups(self.cfg.strategy.unfreeze_top)
        n = min(epoch // self.cfg.strategy.unfreeze_every, len(top))
        return {HEAD, *(g.name for g in top[:n])}
