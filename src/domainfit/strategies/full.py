"""``full``: every parameter trains at ``train.lr`` from the first step."""

from __future__ import annotations

from domainfit.strategies.base import HEAD, STRATEGIES, Strategy


@STRATEGIES.register("full")
class Full(Strategy):
    name = "full"

    def group_lrs(self) -> dict[str, float]:
        lr = self.cfg.train.lr
        return {**{g.name: lr for g in self.groups}, HEAD: lr}
