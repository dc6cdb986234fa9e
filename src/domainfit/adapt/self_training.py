"""Self-training: confident predictions on unlabelled target samples become training labels.

Class-balanced selection (Zou et al., CBST, ECCV 2018): within each predicted class the most
confident share is kept, so an easy class cannot crowd out the rest and the pseudo-labelled set
does not drift towards the source's majority class.
"""

from __future__ import annotations

import numpy as np

from domainfit.config import SelfTrainingConfig

UNLABELLED = -1


def fraction_at(epoch: int, epochs: int, cfg: SelfTrainingConfig) -> float:
    """The selected share grows linearly from ``fraction`` at ``start_epoch`` to
    ``max_fraction`` at the last epoch."""
    span = max(1, epochs - 1 - cfg.start_epoch)
    t = min(max((epoch - cfg.start_epoch) / span, 0.0), 1.0)
    return cfg.fraction + t * (cfg.max_fraction - cfg.fraction)


def select_pseudo_labels(
    probs: np.ndarray, threshold: float, fraction: float, class_balanced: bool = True
) -> np.ndarray:
    """(n,) predicted class per sample, ``UNLABELLED`` where not selected.

    ``probs``: (n, k) class probabilities. A sample is kept when its confidence reaches
    ``threshold`` and it ranks in the top ``fraction`` of its predicted class (class-balanced)
    or of all samples (not balanced)."""
    p = np.asarray(probs, dtype=np.float64)
    pred = p.argmax(axis=1)
    conf = p.max(axis=1)
    keep = np.zeros(len(p), dtype=bool)
    pools = (
        [np.flatnonzero(pred == c) for c in range(p.shape[1])]
        if class_balanced
        else [np.arange(len(p))]
    )
    for pool in pools:
        if len(pool) == 0:
            continue
        n = max(1, round(fraction * len(pool)))
        # stable sort on -confidence: ties keep index order, so selection is deterministic
        top = pool[np.argsort(-conf[pool], kind="stable")[:n]]
        keep[top] = True
    keep &= conf >= threshold
    return np.where(keep, pred, UNLABELLED).astype(np.int64)
