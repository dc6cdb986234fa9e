"""Heads on pooled backbone features, and the classifier they make together."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
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


def build_head(
    in_features: int, n_out: int, cfg: HeadConfig, *, rescale: bool = False
) -> nn.Module:
    """``rescale`` (regression) appends a :class:`Rescale`, so outputs are in label units."""
    head = _head_layers(in_features, n_out, cfg)
    return nn.Sequential(*head, Rescale()) if rescale else head


def _head_layers(in_features: int, n_out: int, cfg: HeadConfig) -> nn.Sequential:
    if cfg.type == "linear":
        return nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(in_features, n_out))
    return nn.Sequential(
        nn.Dropout(cfg.dropout),
        nn.Linear(in_features, cfg.hidden),
        nn.GELU(),
        nn.Dropout(cfg.dropout),
        nn.Linear(cfg.hidden, n_out),
    )


class Rescale(nn.Module):
    """``y = mean + std * z``: the layers learn standardised targets, whatever the label units.
    The statistics are buffers, so they travel in the weights file."""

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.mean + self.std * z


class ScaledMSELoss(nn.Module):
    """MSE of residuals divided by the training labels' std: the loss (and its gradients) does
    not grow with the labels' units."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.mean(((pred - target) / self.std) ** 2)


def loss_for(task: HeadTask, label_std: float = 1.0) -> nn.Module:
    if task == "multiclass":
        return nn.CrossEntropyLoss()
    if task in ("binary", "multilabel"):
        return nn.BCEWithLogitsLoss()
    return ScaledMSELoss(label_std)


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


class HeadOnly(nn.Module):
    """The head alone, reading cached backbone features from ``batch["x"]``."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        return self.head(batch["x"])


@torch.no_grad()
def cached_features(encoder: nn.Module, data: Any, batch_size: int) -> Any:
    """An EncodedSet of the encoder's pooled features for ``data`` (encoder in eval mode)."""
    from domainfit.data.loaders import Batches, EncodedSet
    from domainfit.progress import track_batches

    was_training = encoder.training
    encoder.eval()
    batches = Batches(data, batch_size, shuffle=False)
    chunks = [encoder(b).float().numpy() for b in track_batches(batches, "backbone features")]
    encoder.train(was_training)
    return EncodedSet({"x": np.concatenate(chunks)}, data.labels)
