"""Training findings read from a finished (or diverged) run folder.

Everything here comes from files every run writes: ``losses.jsonl`` (the loss of each optimizer
step), ``metrics.jsonl`` (per evaluation: train and validation loss), ``lr.jsonl`` (each group's
rate as the optimizer applied it) and the strategy's declared plan. Loss levels are judged
against chance, ln(number of classes): the loss of a model that learnt nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from domainfit.diagnose.findings import Finding, grade
from domainfit.report.runfolder import RunFolder

SPIKE_FACTOR = 2.5  # a step's loss this many times the running median before it
SPIKE_WINDOW = 20


def run_findings(run: RunFolder, plan: list[dict[str, Any]] | None) -> list[Finding]:
    losses = run.step_losses
    chance = math.log(len(run.classes)) if not run.is_regression and run.classes else None
    out: list[Finding] = []
    out += lr_findings(losses, chance, plan)
    out += fit_findings(run.history, losses, chance, plan)
    if plan is not None:
        out += ineffective_lr(run.lr_history, plan)
    out += validator_findings(run.config, run.classes, run.is_regression)
    baselines = run.path / "baselines.json"
    if baselines.is_file():
        import json

        out += negative_transfer(json.loads(baselines.read_text(encoding="utf-8")))
    return out


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def spikes(losses: list[float]) -> list[int]:
    """Steps whose loss exceeds SPIKE_FACTOR x the median of the SPIKE_WINDOW steps before."""
    out = []
    for i in range(SPIKE_WINDOW, len(losses)):
        ref = float(np.median(losses[i - SPIKE_WINDOW : i]))
        if losses[i] > SPIKE_FACTOR * ref and losses[i] - ref > 0.1:
            out.append(i)
    return out


def lr_findings(
    raw: list[float | None], chance: float | None, plan: list[dict[str, Any]] | None
) -> list[Finding]:
    if not raw:
        return []
    if any(v is None or not math.isfinite(v) for v in raw):
        step = next(i for i, v in enumerate(raw) if v is None or not math.isfinite(v))
        return [
            Finding(
                "lr_too_high",
                "high",
                f"the loss became NaN/infinite at optimizer step {step}",
                {"step": step, "last_finite": [v for v in raw[:step]][-5:]},
                "train.lr: 10x lower (domainfit lr-find CONFIG suggests one); keep "
                "train.clip_grad_norm: 1.0; check the inputs for NaN/Inf",
                score=10.0,
            )
        ]
    losses = [float(v) for v in raw if v is not None]
    n = len(losses)
    head = max(1, min(10, n // 10))
    start, end = _mean(losses[:head]), _mean(losses[-max(1, n // 10) :])
    found = spikes(losses)
    unfreezes = _unfreeze_steps(plan, n, losses)
    after_unfreeze = [s for s in found if any(0 <= s - u < SPIKE_WINDOW for u in unfreezes)]
    out = []
    # too high: training ends no better than it began and no better than chance, or spikes
    stuck = chance is not None and end >= 0.9 * chance and end >= 0.95 * start and n >= 20
    bumpy = np.std(np.diff(losses)) / max(1e-8, abs(end)) if n > 2 else 0.0
    if stuck and (found or bumpy > 0.3 or start < 0.9 * chance):
        sev = "high"
    elif len(found) >= 3 or after_unfreeze:
        sev = "medium"
    elif found:
        sev = "low"
    else:
        sev = None
    if sev is not None:
        where = f", {len(after_unfreeze)} right after an unfreeze" if after_unfreeze else ""
        out.append(
            Finding(
                "lr_too_high",
                sev,  # type: ignore[arg-type]
                f"training loss ends at {end:.3f} from {start:.3f} with {len(found)} spikes"
                + where,
                {
                    "start_loss": round(start, 4),
                    "end_loss": round(end, 4),
                    "chance_loss": round(chance, 4) if chance else None,
                    "spikes": len(found),
                    "spike_steps": found[:10],
                    "spikes_after_unfreeze": len(after_unfreeze),
                    "step_to_step_variation": round(float(bumpy), 3),
                },
                "train.lr: 3-10x lower (domainfit lr-find CONFIG); with unfreezing, "
                "strategy.lr_factor: 0.1 and train.warmup_ratio: 0.1",
                score=len(found) + (5.0 if sev == "high" else 0.0),
            )
        )
        return out
    # too low: a smooth curve that hardly descends while far from a good fit
    drop = (start - end) / max(1e-8, abs(start))
    if n >= 20 and drop < 0.05 and (chance is None or end > 0.5 * chance):
        out.append(
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
                "train.lr: 10x higher (domainfit lr-find CONFIG suggests one), or more "
                "train.epochs",
                score=1.0 - drop,
            )
        )
    return out


def _unfreeze_steps(plan: list[dict[str, Any]] | None, n: int, losses: list[float]) -> list[int]:
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


def fit_findings(
    history: list[dict[str, Any]],
    losses: list[float | None],
    chance: float | None,
    plan: list[dict[str, Any]] | None,
) -> list[Finding]:
    out: list[Finding] = []
    rows = [r for r in history if "train.loss" in r]
    if not rows:
        return out
    train = [float(r["train.loss"]) for r in rows]
    val = [float(r["val.loss"]) for r in rows if "val.loss" in r]
    if len(val) >= 2 and len(val) == len(train):
        best = int(np.argmin(val))
        rise = (val[-1] - val[best]) / max(1e-8, val[best])
        falling = train[-1] < train[best]
        sev = (
            grade(rise, medium=0.2, high=0.5, low=0.1) if falling and best < len(val) - 1 else None
        )
        if sev is not None:
            out.append(
                Finding(
                    "overfitting",
                    sev,
                    f"validation loss rose {rise:.0%} after evaluation {best} while training "
                    "loss kept falling",
                    {
                        "best_evaluation": best,
                        "val_loss_best": round(val[best], 4),
                        "val_loss_last": round(val[-1], 4),
                        "train_loss_last": round(train[-1], 4),
                    },
                    f"train.early_stopping: {{metric: val.loss, patience: 1}} or train.epochs: "
                    f"{best + 1}; more regularisation (regularize.l2_sp, weight_decay, dropout) "
                    "or fewer trained parameters (strategy.name: lora)",
                    score=rise,
                )
            )
    if chance is not None:
        end = train[-1]
        ratio = end / chance
        sev = grade(ratio, medium=0.6, high=0.85)
        if sev is not None:
            trains = [r for r in plan or [] if r.get("trains")]
            frozen_share = 1.0 - sum(r["params"] for r in trains) / max(
                1, sum(r["params"] for r in plan or [])
            )
            out.append(
                Finding(
                    "underfitting",
                    sev,
                    f"final training loss {end:.3f} is {ratio:.0%} of chance ({chance:.3f})",
                    {"train_loss_last": round(end, 4), "chance_loss": round(chance, 4)},
                    "more train.epochs or a higher train.lr; train more of the network "
                    "(strategy.name: full) or a larger head (model.head.type: mlp)",
                    score=ratio,
                )
            )
            if plan and frozen_share > 0.5:
                out.append(
                    Finding(
                        "frozen_too_deep",
                        sev,
                        f"{frozen_share:.0%} of the parameters stay frozen and the model underfits",
                        {
                            "frozen_share": round(frozen_share, 4),
                            "trained_groups": [r["group"] for r in trains],
                        },
                        "unfreeze more: strategy.name: two_stage with strategy.unfreeze_top "
                        "raised, or full / layerwise_lr",
                        score=frozen_share,
                    )
                )
    return out


def ineffective_lr(lr_rows: list[dict[str, Any]], plan: list[dict[str, Any]]) -> list[Finding]:
    """Each traced rate against the plan at that epoch: a planned-frozen group must not step,
    a planned-trained one must, and the ratios between groups must be the declared ones (a
    schedule scales all groups alike)."""
    declared = {r["group"]: r.get("epochs") or [] for r in plan}
    problems: list[str] = []
    for row in lr_rows:
        e = int(row.get("epoch", 0))
        ratios = {}
        for group, epochs in declared.items():
            if not epochs:
                continue
            want = epochs[min(e, len(epochs) - 1)]
            got = float(row["lr"].get(group, 0.0))
            if want is None and got > 0:
                problems.append(f"step {row['step']}: {group} steps at {got:.3g}, planned frozen")
            elif want is not None and got <= 0:
                problems.append(f"step {row['step']}: {group} frozen, planned at {want:.3g}")
            elif want is not None:
                ratios[group] = got / want
        if len(ratios) >= 2:
            lo, hi = min(ratios.values()), max(ratios.values())
            if hi > lo * 1.01:
                problems.append(
                    f"step {row['step']}: rates off the plan by factors {lo:.3g}..{hi:.3g} "
                    f"across groups"
                )
    if not problems:
        return []
    return [
        Finding(
            "ineffective_lr",
            "high",
            f"{len(problems)} learning-rate samples differ from the declared plan",
            {"mismatches": len(problems), "first": problems[:5]},
            "compare `domainfit inspect CONFIG` with the run's lr.jsonl; a custom optimizer "
            "or scheduler must keep one param group per layer group",
            score=float(len(problems)),
            examples=problems[:5],
        )
    ]


def bn_stats_drift(
    model: Any, inner: Any, frozen_params: set[str], run_state: dict[str, Any]
) -> list[Finding]:
    """BatchNorm running statistics of layers whose parameters never train, pretrained vs the
    run's final weights. ``model``: the freshly built (pretrained) model; ``inner``: its
    backbone's own module, whose parameter names ``frozen_params`` uses."""
    import torch

    names_in_inner = {id(m): n for n, m in inner.named_modules()}
    moved: dict[str, float] = {}
    checked = 0
    for full, module in model.named_modules():
        if not isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            continue
        inner_name = names_in_inner.get(id(module))
        if inner_name is None or f"{inner_name}.weight" not in frozen_params:
            continue
        key = f"{full}.running_mean"
        if key not in run_state or module.running_mean is None:
            continue
        checked += 1
        drift = 0.0
        for buf in ("running_mean", "running_var"):
            before = getattr(module, buf).detach().float().cpu()
            after = run_state[f"{full}.{buf}"].float().cpu()
            drift = max(drift, float((after - before).norm() / (before.norm() + 1e-8)))
        if drift > 1e-6:
            moved[inner_name] = drift
    if not moved:
        return []
    worst = max(moved.values())
    return [
        Finding(
            "bn_stats_drift",
            "high" if worst > 0.1 else "medium",
            f"BatchNorm statistics moved in {len(moved)} of {checked} frozen layers "
            f"(largest relative change {worst:.2g})",
            {
                "layers_moved": len(moved),
                "frozen_bn_layers": checked,
                "largest_relative_change": round(worst, 6),
                "worst": dict(sorted(moved.items(), key=lambda kv: -kv[1])[:5]),
            },
            "regularize.batchnorm: frozen (frozen layers then normalise with their pretrained "
            "statistics, as the head was trained to expect)",
            score=worst,
        )
    ]


def validator_findings(
    config: dict[str, Any], classes: list[str], is_regression: bool
) -> list[Finding]:
    """``adapt.select: snd`` on two classes. SND's neighbourhood entropy peaks when every output
    lies near (0.5, 0.5), so it rewards the least confident model, not the best one."""
    adapt = config.get("adapt") or {}
    adapting = adapt.get("method", "none") != "none" or (adapt.get("self_training") or {}).get(
        "enabled", False
    )
    if not adapting or adapt.get("select") != "snd" or is_regression or len(classes) != 2:
        return []
    return [
        Finding(
            "unreliable_validator",
            "medium",
            "adapt.select: snd chose the checkpoint of a two-class task, where SND rewards "
            "under-confident models",
            {"validator": "snd", "classes": len(classes)},
            "adapt.select: im (on the Amazon raw-text benchmark SND picked the frozen probe on "
            "7 of 12 tasks: 71.8% against IM's 83.4%)",
        )
    ]


NEGATIVE_FIX = {
    "scratch": "pretraining does not help here: compare backbones with domainfit rank, or "
    "train more of the network (strategy.name: full) with regularize.l2_sp off",
    "linear_probe": "fine-tuning damages the pretrained features: lower train.lr (10x), "
    "strategy.name: layerwise_lr or lora, regularize.l2_sp, fewer train.epochs",
    "source_only": "the adaptation hurts: lower adapt.weight (0.1), adapt.select: im, check "
    "label_shift (marginal alignment misleads when class priors differ)",
}


def negative_transfer(baselines: dict[str, Any]) -> list[Finding]:
    """From baselines.json: worse than a baseline beyond the interval (high), or not better
    beyond it (medium, a gain the data cannot confirm)."""
    out = []
    for name, entry in (baselines.get("baselines") or {}).items():
        rows = [r for r in entry.get("comparisons", []) if "gain" in r]
        # with a target domain, transfer is judged there: adaptation may trade source accuracy
        # for target accuracy by design
        on_target = [r for r in rows if r["split"].startswith("target.")]
        for row in on_target or rows:
            lo, hi = row["ci"]
            if lo > 0:
                continue
            worse = hi < 0
            scale = 100.0 if row["metric"] == "accuracy" else 1.0
            unit = " points" if scale == 100.0 else ""
            out.append(
                Finding(
                    "negative_transfer",
                    "high" if worse else "medium",
                    f"{'worse than' if worse else 'not better than'} the {name} baseline on "
                    f"{row['split']}: {scale * row['gain']:+.2f}{unit} "
                    f"[{scale * lo:+.2f}, {scale * hi:+.2f}]",
                    {
                        "baseline": name,
                        "baseline_value": row["baseline"],
                        **{k: row[k] for k in ("split", "n", "metric", "gain", "ci", "run")},
                    },
                    NEGATIVE_FIX.get(name, "compare the configs of the run and the baseline"),
                    score=-row["gain"],
                )
            )
    return out
