"""Training findings read from a finished (or diverged) run folder.

Everything here comes from files every run writes: ``losses.jsonl`` (the loss of each optimizer
step), ``metrics.jsonl`` (per evaluation: train and validation loss), ``lr.jsonl`` (each group's
rate as the optimizer applied it) and the strategy's declared plan. Loss levels are judged
against chance, ln(number of classes): the loss of a model that learnt nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from domainfit.diagnose.advice import Suggestion, advise, equals, one_of
from domainfit.diagnose.findings import Finding, grade
from domainfit.diagnose.lr_findings import lr_findings
from domainfit.report.runfolder import RunFolder


def run_findings(run: RunFolder, plan: list[dict[str, Any]] | None) -> list[Finding]:
    losses = run.step_losses
    chance = math.log(len(run.classes)) if not run.is_regression and run.classes else None
    out: list[Finding] = []
    out += lr_findings(losses, chance, plan, run.config)
    out += fit_findings(run.history, losses, chance, plan, run.config)
    if plan is not None:
        out += ineffective_lr(run.lr_history, plan)
    out += validator_findings(run.config, run.classes, run.is_regression)
    baselines = run.path / "baselines.json"
    if baselines.is_file():
        import json

        out += negative_transfer(json.loads(baselines.read_text(encoding="utf-8")))
    return out


def fit_findings(
    history: list[dict[str, Any]],
    losses: list[float | None],
    chance: float | None,
    plan: list[dict[str, Any]] | None,
    cfg: Mapping[str, Any] | None = None,
) -> list[Finding]:
    cfg = cfg or {}
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
                    advise(
                        cfg,
                        [
                            Suggestion(
                                "train.early_stopping: {metric: val.loss, patience: 1} or "
                                f"train.epochs: {best + 1}",
                                "train.early_stopping",
                                lambda v: True,
                            ),
                            Suggestion(
                                "more regularisation (regularize.l2sp, train.weight_decay, "
                                "regularize.dropout)"
                            ),
                            Suggestion(
                                "fewer trained parameters (strategy.name: lora)",
                                "strategy.name",
                                one_of("lora", "linear_probe", "frozen", "bitfit"),
                            ),
                        ],
                        "",
                    ),
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
                    advise(
                        cfg,
                        [
                            Suggestion("more train.epochs or a higher train.lr"),
                            Suggestion(
                                "train more of the network (strategy.name: full)",
                                "strategy.name",
                                equals("full"),
                            ),
                            Suggestion(
                                "a larger head (model.head.type: mlp)",
                                "model.head.type",
                                equals("mlp"),
                            ),
                        ],
                        "",
                    ),
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
    "train more of the network (strategy.name: full) with regularize.l2sp off",
    "linear_probe": "fine-tuning damages the pretrained features: lower train.lr (10x), "
    "strategy.name: layerwise_lr or lora, regularize.l2sp, fewer train.epochs",
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
