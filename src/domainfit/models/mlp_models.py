"""``mlp`` / ``mlp:<w1>,<w2>,...``: a feature extractor trained from scratch, for tables and
feature arrays (Office-Caltech SURF, the Amazon reviews' 5000-d features).

Nothing pretrained exists for it, but ``model.weights`` may name a finished mlp run's
``model/model.safetensors`` (or a saved ``MLPEncoder`` state dict) to continue from. The input
width comes from the preprocessed training data, so ``fit`` passes it in (and ``predict`` reads
it back from ``model.json``).
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import nn

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import Backbone
from domainfit.models.specs import BackboneSpec
from domainfit.models.weights import load_into

DEFAULT_WIDTHS = "256,256"
RUN_PREFIX = "encoder."  # an mlp run's model.safetensors: its encoder is the backbone itself


class MLPEncoder(nn.Module):
    """Blocks ``layer{i}`` of Linear -> ReLU -> Dropout; one layer group per block."""

    def __init__(self, in_features: int, widths: list[int], dropout: float) -> None:
        super().__init__()
        dims = [in_features, *widths]
        for i, (a, b) in enumerate(itertools.pairwise(dims)):
            self.add_module(
                f"layer{i}", nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout))
            )
        self.out_features = dims[-1]

    def forward(self, batch: dict[str, Any]) -> torch.Tensor:
        x = batch["x"]
        for block in self.children():
            x = block(x)
        return x


def parse_widths(target: str) -> list[int]:
    try:
        widths = [int(w) for w in target.split(",") if w.strip()]
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:
        raise ConfigError(
            f"model.backbone=mlp:{target} is not a list of layer widths", "use e.g. mlp:256,128"
        )
    return widths


def load_mlp(spec: BackboneSpec, cfg: ModelConfig, input_width: int | None = None) -> Backbone:
    if input_width is None:
        raise ConfigError(
            "the mlp backbone needs the width of the preprocessed inputs",
            "train it with fit on a table or feature data set",
        )
    encoder = MLPEncoder(input_width, parse_widths(spec.target), cfg.head.dropout)
    source = None
    if cfg.weights and cfg.pretrained:  # pretrained: false asks for the random start
        load_into(encoder, cfg.weights, run_prefix=RUN_PREFIX)
        source = f"file {cfg.weights}"
    return Backbone(encoder, encoder, "generic", "features", encoder.out_features, spec, source)
