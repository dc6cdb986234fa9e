"""``layerwise_lr``: everything trains from the start, each group at
``train.lr * layer_decay ** distance`` (head 0, the top backbone group 1, ...). Shallow layers
hold general features and need the smallest changes (layer-wise lr decay, as in BEiT/ELECTRA).
"""

from __future__ import annotations

from domainfit.strategies.base import HEAD, STRATEGIES, Strategy


@STRATEGIES.register("layerwise_lr")
class LayerwiseLR(Strategy):
    name = "layerwise_lr"
    uses_layer_decay = True
    default_layer_decay = 0.75

    def group_lrs(self) -> dict[str, float]:
        lr = self.cfg.train.lr
        return {
            HEAD: lr,
            **{g.name: self.decayed(lr, d) for d, g in enumerate(self.top_down(), start=1)},
        }
