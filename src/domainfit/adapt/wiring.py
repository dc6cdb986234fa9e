"""Wiring adaptation into a run: the unlabelled target pool, the labelled target few joined to
the source's training set, and the label-free scores of the final model."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from domainfit.adapt.adapter import Adapter, build_domain_loss, validator_scores
from domainfit.config import RunConfig
from domainfit.data.loaders import EncodedSet
from domainfit.errors import ConfigError
from domainfit.evaluate.outputs import model_outputs

CLASS_LOSSES = ("cdan", "entropy")  # read the head's class probabilities


def build_adapter(
    cfg: RunConfig,
    sets: dict[str, EncodedSet],
    features: int,
    classes: list[str],
    *,
    caches: bool,
) -> Adapter | None:
    """``classes`` is empty for regression, where only feature-level losses apply."""
    if not cfg.adapt.enabled:
        return None
    if not classes and (cfg.adapt.self_training.enabled or cfg.adapt.method in CLASS_LOSSES):
        raise ConfigError(
            f"adapt.method={cfg.adapt.method!r} / self-training need class predictions, but "
            "this is a regression task",
            "use adapt.method dann, coral or mmd, without self_training",
        )
    if caches:
        raise ConfigError(
            f"adapt.method={cfg.adapt.method!r} needs trainable features, but "
            f"strategy.name={cfg.strategy.name!r} trains the head on frozen cached features",
            "use strategy full, two_stage, gradual_unfreeze, layerwise_lr, lora or bitfit",
        )
    pool = sets.get("target.train")
    if pool is None or len(pool) == 0:
        raise ConfigError(
            "adaptation needs unlabelled target samples, but the target's training split is empty",
            "give data.target more samples, or set adapt.protocol: transductive",
        )
    unlabelled = EncodedSet(pool.inputs, None, pool.pad_id)
    loss = build_domain_loss(cfg.adapt, features, len(classes))
    return Adapter(cfg.adapt, unlabelled, loss, cfg.train.batch_size, cfg.seed, cfg.train.epochs)


def with_labelled_target(
    source: EncodedSet, target: EncodedSet, positions: np.ndarray
) -> EncodedSet:
    """The source's training set plus the target training samples at ``positions``."""
    if target.labels is None:
        raise ConfigError(
            "data.target_labels asks for labelled target samples, but the target's labels "
            "are not classes the source knows",
            "check data.target.label, or set data.target_labels: 0",
        )
    inputs: dict[str, Any] = {}
    for key, value in source.inputs.items():
        extra = target.inputs[key]
        if isinstance(value, list):
            inputs[key] = value + [extra[i] for i in positions]
        elif sp.issparse(value):
            inputs[key] = sp.vstack([value, extra[positions]]).tocsr()
        else:
            inputs[key] = np.concatenate([value, extra[positions]])
    assert source.labels is not None
    labels = np.concatenate([source.labels, target.labels[positions]])
    return EncodedSet(inputs, labels, source.pad_id)


def select_metric(cfg: RunConfig) -> str | None:
    """The trainer's checkpoint choice (None: early stopping's metric or val.loss)."""
    if not cfg.adapt.enabled or cfg.adapt.select == "source_val":
        return None
    return "last" if cfg.adapt.select == "last" else f"val.target_{cfg.adapt.select}"


def final_scores(
    adapter: Adapter, model: torch.nn.Module, task: str, batch_size: int, device: Any
) -> dict[str, float]:
    """Label-free validator scores of the kept model on the unlabelled target pool."""
    pool = adapter.validator_pool()
    probs = model_outputs(model, pool, task, batch_size, device, "scoring the target pool")
    return {f"target.pool.{k}": v for k, v in validator_scores(probs).items()}
