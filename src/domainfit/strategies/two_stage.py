"""``two_stage``: the head trains alone for ``strategy.head_epochs`` epochs, then the top
``strategy.unfreeze_top`` backbone groups (default all) join at ``train.lr * lr_factor``.
A random head's large early gradients would otherwise damage the pretrained features."""

from __future__ import annotations

from torch import nn

from domainfit.config import RunConfig
from domainfit.errors import ConfigError
from domainfit.models.groups import LayerGroup
from domainfit.strategies.base import HEAD, STRATEGIES, Strategy


@STRATEGIES.register("two_stage")
class TwoStage(Strategy):
    name = "two_stage"
    uses_layer_decay = True  # stage-two groups then train at lr * lr_factor * decay ** distance

    def __init__(
        self,
        cfg: RunConfig,
        groups: list[LayerGroup],
        head: nn.Module,
        backbone: nn.Module | None = None,
    ) -> None:
        super().__init__(cfg, groups, head, backbone)
        s = cfg.strategy
        if s.head_epochs >= cfg.train.epochs:
            raise ConfigError(
                f"strategy two_stage: head_epochs={s.head_epochs} leaves no epoch for the "
                f"backbone (train.epochs={cfg.train.epochs})",
                "lower strategy.head_epochs or raise train.epochs (or use strategy.name=frozen)",
            )

    def group_lrs(self) -> dict[str, float]:
        s, lr = self.cfg.strategy, self.cfg.train.lr
        top = self.top_groups(s.unfreeze_top)
        return {
            HEAD: lr,
            **{g.name: self.decayed(lr * s.lr_factor, d) for d, g in enumerate(top, start=1)},
        }

    def trains_in(self, epoch: int) -> set[str] | None:
        return {HEAD} if epoch < self.cfg.strategy.head_epochs else None
