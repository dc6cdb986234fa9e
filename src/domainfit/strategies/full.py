"""``full``: every parameter trains at ``train.lr``."""

from __future__ import annotations

from typing import Any

from domainfit.strategies.base import STRATEGIES, Strategy


@STRATEGIES.register("full")
class Full(Strategy):
    name = "full"

    def param_groups(self) -> list[dict[str, Any]]:
        params = [p for g in self.groups for _, p in g.params] + list(self.head.parameters())
        for p in params:
            p.requires_grad_(True)
        return [{"params": params, "lr": self.cfg.train.lr}]
