"""``lr_too_high`` and ``lr_too_low`` from the loss of each optimizer step (``losses.jsonl``).

Too high, by decreasing severity:

- high: the loss became NaN/infinite; or the smoothed curve climbs (its last tenth's median
  1.5x its best tenth's, see :mod:`loss_curve`); or training ends near chance no better than it
  began, with spikes, a jagged curve or a start below chance;
- medium: 3 or more spikes, or one right after a group was unfrozen;
- low: 1-2 spikes.

A spike is an outlier the weights explain (:class:`loss_curve.Outlier.spike`: the loss stayed
up after it, or the batch carried more excess loss than sane predictions can). Single-batch
outliers that fall straight back, the noise of a small batch, never raise it; they are counted
in the evidence so a reader sees they were looked at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from domainfit.diagnose.advice import Suggestion, advise, setting
from domainfit.diagnose.findings import Finding, Severity
from domainfit.diagnose.loss_curve import WINDOW, outliers, trend


def lr_findings(
    raw: list[float | None],
    chance: float | None,
    plan: list[dict[str, Any]] | None,
    cfg: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """``cfg``: the run's config as a dict (its batch size and rates shape the evidence and the
    fix; without it the fix is generic)."""
    cfg = cfg or {}
    if not raw:
        return []
    if any(v is None or not math.isfinite(v) for v in raw):
        return [_non_finite(raw, cfg)]
    losses = [float(v) for v in raw if v is not None]
    n = len(losses)
    head = max(1, min(10, n // 10))
    start, end = _mean(losses[:head]), _mean(losses[-max(1, n // 10) :])
    batch = _batch_size(cfg)
    # the excess rule reads cross-entropy in nats: classification only
    events = outliers(losses, batch if chance is not None else None)
    spiky = [o.step for o in events if o.spike]
    unfreezes = _unfreeze_steps(plan, n)
    after_unfreeze = [s for s in spiky if any(0 <= s - u < WINDOW for u in unfreezes)]
    curve = trend(losses)
    diverging = curve is not None and curve.diverging
    # too high: training ends no better than it began and no better than chance, or spikes
    stuck = chance is not None and end >= 0.9 * chance and end >= 0.95 * start and n >= 20
    bumpy = np.std(np.diff(losses)) / max(1e-8, abs(end)) if n > 2 else 0.0
    below_chance_at_start = chance is not None and start < 0.9 * chance
    sev: Severity | None = None
    if diverging or (stuck and (spiky or bumpy > 0.3 or below_chance_at_start)):
        sev = "high"
    elif len(spiky) >= 3 or after_unfreeze:
        sev = "medium"
    elif spiky:
        sev = "low"
    if sev is None:
        return _too_low(losses, start, end, chance, cfg)
    isolated = len(events) - len(spiky)
    title = f"training loss ends at {end:.3f} from {start:.3f}"
    if diverging and curve is not None:
        title += f", climbing from a smoothed best of {curve.best:.3f}"
    title += f"; {len(spiky)} spikes beyond batch noise"
    if after_unfreeze:
        title += f", {len(after_unfreeze)} right after an unfreeze"
    if isolated:
        at = f" at batch size {batch}" if batch else ""
        title += f" ({isolated} single-batch outliers{at} fell straight back: batch noise)"
    noise = [o.noise for o in events]
    return [
        Finding(
            "lr_too_high",
            sev,
            title,
            {
                "start_loss": round(start, 4),
                "end_loss": round(end, 4),
                "chance_loss": round(chance, 4) if chance else None,
                "spikes": len(spiky),
                "spike_steps": spiky[:10],
                "spikes_after_unfreeze": len(after_unfreeze),
                "batch_outliers": isolated,
                "batch_outlier_steps": [o.step for o in events if not o.spike][:10],
                "step_noise": round(float(np.median(noise)), 4) if noise else None,
                "smoothed_best": round(curve.best, 4) if curve else None,
                "smoothed_end": round(curve.end, 4) if curve else None,
                "diverging": diverging,
                "effective_batch_size": batch,
                "step_to_step_variation": round(float(bumpy), 3),
            },
            _too_high_fix(cfg, bool(unfreezes)),
            score=len(spiky) + (5.0 if sev == "high" else 0.0),
        )
    ]


def _non_finite(raw: list[float | None], cfg: Mapping[str, Any]) -> Finding:
    step = next(i for i, v in enumerate(raw) if v is None or not math.isfinite(v))
    return Finding(
        "lr_too_high",
        "high",
        f"the loss became NaN/infinite at optimizer step {step}",
        {"step": step, "last_finite": [v for v in raw[:step]][-5:]},
        _too_high_fix(cfg, False, diverged=True) + "; check the inputs for NaN/Inf",
        score=10.0,
    )


def _too_high_fix(cfg: Mapping[str, Any], unfreezes: bool, diverged: bool = False) -> str:
    """Spikes: 3-10x lower; a NaN: 10x lower. Named as rates when the config has one."""
    lr = setting(cfg, "train.lr")
    factor = "10x" if diverged else "3-10x"
    lower = f"train.lr: {factor} lower (domainfit lr-find CONFIG suggests one)"
    if isinstance(lr, int | float):
        to = f"{lr / 10:.1g}" if diverged else f"{lr / 10:.1g}-{lr / 3:.1g}"
        lower = (
            f"train.lr: {to} ({factor} lower than {lr:g}; domainfit lr-find CONFIG suggests one)"
        )
    options = [
        Suggestion(lower),
        Suggestion("train.clip_grad_norm: 1.0", "train.clip_grad_norm", lambda v: v <= 1.0),
    ]
    if unfreezes:
        options += [
            Suggestion("strategy.lr_factor: 0.1", "strategy.lr_factor", lambda v: v <= 0.1),
            Suggestion(
                "train.warmup_ratio: 0.1",
                "train.warmup_ratio",
                lambda v: v >= 0.1 or (setting(cfg, "train.warmup_steps") or 0) > 0,
            ),
        ]
    return advise(cfg, options, lower)


def _too_low(
    losses: list[float], start: float, end: float, chance: float | None, cfg: Mapping[str, Any]
) -> list[Finding]:
    """A smooth curve that hardly descends while far from a good fit."""
    n = len(losses)
    drop = (start - end) / max(1e-8, abs(start))
    if n < 20 or drop >= 0.05 or (chance is not None and end <= 0.5 * chance):
        return []
    lr = setting(cfg, "train.lr")
    higher = "train.lr: 10x higher"
    if isinstance(lr, int | float):
        higher += f" ({lr * 10:.1g})"
    return [
        Finding(
            "lr_too_low",
            "medium" if drop < 0.02 else "low",
            f"training loss moved {drop:.1%} over {n} steps ({start:.3f} -> {end:.3f})",
            {
                "start_loss": round(start, 4),
                "end_loss": round(end, 4),
                "relative_drop": round(drop, 4),
                "steps": n,
            },
            f"{higher} (domainfit lr-find CONFIG suggests one), or more train.epochs",
            score=1.0 - drop,
        )
    ]


def _batch_size(cfg: Mapping[str, Any]) -> int | None:
    """Samples behind one step's loss: the batch times the micro-batches accumulated."""
    batch = setting(cfg, "train.batch_size")
    if not isinstance(batch, int):
        return None
    accum = setting(cfg, "train.grad_accum")
    return batch * (accum if isinstance(accum, int) else 1)


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _unfreeze_steps(plan: list[dict[str, Any]] | None, n: int) -> list[int]:
    """Optimizer steps at which a group starts training (from the plan's epochs)."""
    if not plan:
        return []
    epochs = max(len(r.get("epochs") or []) for r in plan)
    if epochs < 2:
        return []
    per_epoch = max(1, n // epochs)
    out = set()
    for r in plan:
        e = r.get("epochs") or []
        for k in range(1, len(e)):
            if e[k] is not None and e[k - 1] is None:
                out.add(k * per_epoch)
    return sorted(out)
