"""Heads on pooled backbone features, and the classifier they make together."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from domainfit.config import HeadConfig
from domainfit.models.backbone import Backbone

HeadTask = Literal["binary", "multiclass", "multilabel", "regression"]


def head_outputs(task: HeadTask, n_classes: int) -> int:
    """Binary uses one logit (sigmoid); multiclass and multilabel one per class."""
    if task == "binary":
        return 1
    if task in ("multiclass", "multilabel"):
        if n_classes < 2:
            raise ValueError(f"{task} needs at least 2 classes, got {n_classes}")
        return n_classes
    return max(1, n_classes)


def build_head(in_features: int, n_out: int, cfg: HeadConfig) -> nn.Module:
    if cfg.type == "linear":
        return nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(in_features, n_out))
    return nn.Sequential(
        nn.Dropout(cfg.dropout),
        nn.Linear(in_features, cfg.hidden),
        nn.GELU(),
        nn.Dropout(cfg.dropout),
        nn.Linear(cfg.hidden, n_out),
    )


def loss_for(task: HeadTask) -> nn.Module:
    if task == "multiclass":
        return nn.CrossEntropyLoss()
    if task in ("binary", "multilabel"):
        return nn.BCEWithLogitsLoss()
    return nn.MSELoss()


class TransferModel(nn.Module):
    """Backbone encoder plus head; ``features`` is exposed for adaptation losses and probes."""

    def __init__(self, backbone: Backbone, head: nn.Module) -> None:
        super().__init__()
        self.encoder = backbone.encoder
        self.head = head
        self.backbone_info = backbone

    def features(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.encoder(batch)

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.head(self.features(batch))
