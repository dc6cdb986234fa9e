"""What the trainer needs to adapt: the unlabelled target pool, drawn in batches paired with the
source's, the domain loss with its weight schedule, and the pseudo-labels of self-training.

Target batches are a pure function of the step's position in training (cycle through seeded
permutations of the pool), and the pseudo-labels live in the trainer's checkpointed state, so a
resumed run draws the same target batches with the same labels as the uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from domainfit.adapt.base import DOMAIN_LOSSES, DomainLoss, dann_coefficient
from domainfit.adapt.self_training import UNLABELLED, fraction_at, select_pseudo_labels
from domainfit.adapt.validators import validator_score
from domainfit.config import AdaptConfig
from domainfit.data.loaders import EncodedSet, epoch_order
from domainfit.errors import ConfigError

VALIDATOR_SAMPLES = 2000  # the label-free validators score at most this many pool samples


@dataclass
class Adapter:
    cfg: AdaptConfig
    pool: EncodedSet  # unlabelled target samples (labels never read)
    loss: DomainLoss | None
    batch_size: int
    seed: int
    epochs: int

    def target_batch(self, position: int, pseudo: list[int] | None) -> dict[str, torch.Tensor]:
        """The target batch paired with the ``position``-th source batch of the run."""
        n = len(self.pool)
        per_cycle = -(-n // self.batch_size)
        cycle, j = divmod(position, per_cycle)
        order = epoch_order(n, self.seed + 7919, cycle, shuffle=True)
        idx = order[j * self.batch_size : (j + 1) * self.batch_size]
        batch = self.pool.batch(idx)
        batch.pop("labels", None)
        if pseudo is not None:
            batch["pseudo"] = torch.as_tensor(np.asarray(pseudo, dtype=np.int64)[idx])
        return batch

    def weight(self, progress: float) -> float:
        ramp = dann_coefficient(progress) if self.cfg.schedule == "dann" else 1.0
        return self.cfg.weight * ramp

    def pseudo_labels_due(self, epoch: int) -> bool:
        """Self-training relabels the pool at the start of this epoch."""
        st = self.cfg.self_training
        return st.enabled and epoch >= st.start_epoch

    def refresh_pseudo_labels(self, epoch: int, probs: np.ndarray) -> list[int]:
        st = self.cfg.self_training
        fraction = fraction_at(epoch, self.epochs, st)
        return select_pseudo_labels(probs, st.threshold, fraction, st.class_balanced).tolist()

    def validator_pool(self) -> EncodedSet:
        n = len(self.pool)
        if n <= VALIDATOR_SAMPLES:
            return self.pool
        idx = np.sort(np.random.default_rng(self.seed).choice(n, VALIDATOR_SAMPLES, replace=False))
        inputs: dict[str, Any] = {}
        for key, value in self.pool.inputs.items():
            inputs[key] = [value[i] for i in idx] if isinstance(value, list) else value[idx]
        return EncodedSet(inputs, None, self.pool.pad_id)


def validator_scores(probs: np.ndarray) -> dict[str, float]:
    """Both label-free scores of target-pool probabilities (higher is better)."""
    return {name: validator_score(name, probs) for name in ("im", "snd")}


def pseudo_label_count(pseudo: list[int] | None) -> int:
    return 0 if pseudo is None else int(np.sum(np.asarray(pseudo) != UNLABELLED))


def build_domain_loss(cfg: AdaptConfig, features: int, classes: int) -> DomainLoss | None:
    if cfg.method == "none":
        return None
    import domainfit.adapt  # noqa: F401  (registers the built-in losses)

    loss_cls = DOMAIN_LOSSES.get(cfg.method)
    try:
        return loss_cls(features, classes, **cfg.options)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"adapt.options {cfg.options} do not fit adapt.method={cfg.method!r} ({err})",
            f"see the options in the docstring of domainfit.adapt.{cfg.method}",
        ) from None
