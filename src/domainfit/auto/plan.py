"""The plan of ``domainfit auto``: candidate models by modality, then steps in order (the
linear-probe floor, fine-tuning strategies by their priors, adaptation on the best so far),
each a fit config (the base plus overrides) with an estimated time."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domainfit.auto import priors
from domainfit.auto.budget import Costs
from domainfit.auto.decide import Decision, Setup
from domainfit.config import RunConfig
from domainfit.config_io import load_config
from domainfit.errors import ConfigError
from domainfit.models.specs import parse_spec

DEFAULT_MODELS = {
    "text": "minilm",
    "image": "efficientnet-lite0",
    "tabular": "mlp",
    "features": "mlp",
}
FEATURE_KINDS = ("tabular", "features")
# the phases whose steps train on the source alone (they compete on source validation)
SOURCE_ONLY_PHASES = ("floor", "strategy", "search")


@dataclass
class Step:
    """One fit. ``overrides`` are merged onto the base config; an adaptation step's are made
    when it runs, from the best step before it (``base``)."""

    id: str
    phase: str  # floor, strategy, search or adapt
    model: str
    strategy: str
    method: str = "none"
    overrides: dict[str, Any] = field(default_factory=dict)
    why: str = ""
    base: str | None = None
    epochs: int | None = None  # fewer than the recipe's, to fit the budget
    min_epochs: int = 1
    label: str = ""

    @property
    def title(self) -> str:
        if self.phase == "adapt":
            return f"{self.method} on {self.base or 'the best step'}"
        if self.phase == "search":
            return f"Hyperband on {self.base or 'the best step'}"
        return self.label or self.strategy

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phase": self.phase,
            "model": self.model,
            "strategy": self.strategy,
            "method": self.method,
            "title": self.title,
            "why": self.why,
            "base": self.base,
        }


def candidate_models(setup: Setup, models: list[str] | None) -> list[str]:
    """The modality's default (or the config's model.backbone), then ``--models``."""
    kind = setup.modality
    first = setup.raw.get("model", {}).get("backbone") or DEFAULT_MODELS.get(kind)
    if first is None:
        raise ConfigError(f"auto has no default model for {kind} data", "pass --models SPEC")
    out: list[str] = []
    for spec in [first, *(models or [])]:
        parsed = parse_spec(spec)  # a bad spec fails here, before anything is written
        if (parsed.kind == "mlp") != (kind in FEATURE_KINDS):
            reads = "tables and feature arrays" if parsed.kind == "mlp" else "text and images"
            raise ConfigError(
                f"model {spec} reads {reads}, but the source holds {kind} data",
                f"drop it from --models (default for {kind}: {DEFAULT_MODELS.get(kind)})",
            )
        if spec not in out:
            out.append(spec)
    return out


def build_plan(setup: Setup, models: list[str]) -> tuple[list[Step], list[Decision]]:
    """Steps in the order they run, and what was left out and why."""
    notes: list[Decision] = [Decision("models", models, _models_why(setup, models))]
    floors: list[Step] = []
    per_model: list[list[Step]] = []
    for model in models:
        parsed = parse_spec(model)
        pretrained = parsed.kind in ("hf", "named", "local")
        recipes = _recipes(parsed.kind, setup.modality)
        if pretrained:
            floors.append(
                _step(model, "floor", priors.PROBE, "the floor: frozen pretrained features")
            )
        else:
            notes.append(
                Decision(f"linear_probe ({model})", "skipped", "random weights: nothing to probe")
            )
        per_model.append([_step(model, "strategy", r, _prior_why(r)) for r in recipes])
        if parsed.kind == "hf":
            for name, why in priors.TEXT_LEFT_OUT.items():
                notes.append(Decision(f"{name} ({model})", "left out", why))
    steps = floors + _interleave(per_model)  # each model's best prior first, then the next
    steps.append(
        Step(
            "",
            "search",
            "",
            "",
            why="Hyperband (successive halving) over the learning rate and weight decay of the "
            "best source-only step, when its trials are cheap next to the budget",
            label="search",
        )
    )
    if setup.has_target:
        if setup.classification:
            for method in priors.ADAPT_METHODS:
                steps.append(
                    Step(
                        "",
                        "adapt",
                        "",
                        "",
                        method,
                        why=f"adaptation towards the target, chosen by {priors.SELECT} "
                        "(no target label)",
                    )
                )
        else:
            notes.append(
                Decision("adaptation", "skipped", "label-free scores need class probabilities")
            )
    for i, step in enumerate(steps, start=1):
        name = step.method if step.phase == "adapt" else step.label or step.strategy
        slug = "".join(c if c.isalnum() or c in "-." else "-" for c in name)
        step.id = f"{i:02d}-{slug}"
        if len(models) > 1 and step.model:
            step.id += f"-{models.index(step.model) + 1}"
    return steps, notes


def _interleave(groups: list[list[Step]]) -> list[Step]:
    out: list[Step] = []
    for rank in range(max(map(len, groups), default=0)):
        out += [g[rank] for g in groups if rank < len(g)]
    return out


def _recipes(kind: str, modality: str) -> tuple[priors.Recipe, ...]:
    if kind == "mlp":
        return priors.MLP
    if modality == "text":
        return priors.TEXT
    return priors.IMAGE


def _step(model: str, phase: str, recipe: priors.Recipe, why: str) -> Step:
    strategy: dict[str, Any] = {"name": recipe.strategy, **recipe.settings}
    overrides: dict[str, Any] = {
        "model": {"backbone": model},
        "strategy": strategy,
        "train": dict(recipe.train),
    }
    min_epochs = max(int(recipe.settings.get("head_epochs", 0)) + 1, recipe.min_epochs)
    return Step(
        "",
        phase,
        model,
        recipe.strategy,
        "none",
        overrides,
        why,
        min_epochs=min_epochs,
        label=recipe.label,
    )


def _prior_why(recipe: priors.Recipe) -> str:
    if recipe.prior is None:
        return f"{recipe.label or recipe.strategy}: trains every weight of a network built here"
    return f"prior mean accuracy {recipe.prior:.2f} (benchmarks/results, see auto/priors.py)"


def _models_why(setup: Setup, models: list[str]) -> str:
    default = DEFAULT_MODELS.get(setup.modality)
    given = [m for m in models if m != default]
    why = f"{setup.modality} data: {default}"
    return why + (f", plus {', '.join(given)}" if given else "")


def adapt_overrides(base: Step, method: str, base_dir: Path | None) -> dict[str, Any]:
    """An adaptation step on top of ``base``. A fine-tuned pretrained model is continued from
    its weights for one epoch at a low rate (amazon_text.json's init=source recipe: a third of
    the compute of adapting from scratch); a probe or an mlp is retrained with the loss."""
    out = copy.deepcopy(base.overrides)
    if base.epochs is not None:
        out["train"]["epochs"] = base.epochs
    kind = parse_spec(base.model).kind
    if base.strategy != "linear_probe" and kind != "mlp" and base_dir is not None:
        out["model"]["weights"] = str((base_dir / "model" / "model.safetensors").resolve())
        out["strategy"] = {"name": "full"}
        out["train"] = {**out["train"], **priors.WARM_START}
    out["adapt"] = {"method": method, "select": priors.SELECT}
    return out


def step_config(setup: Setup, step: Step, max_seconds: float | None = None) -> RunConfig:
    """The step's whole fit config: base, step overrides, the user's ``--set`` last."""
    raw = copy.deepcopy(setup.raw)
    _merge(raw, step.overrides)
    raw["name"] = f"auto-{step.id}"
    cfg = load_config(raw, setup.overrides)
    if step.epochs is not None:
        cfg.train.epochs = step.epochs
    cfg.train.max_seconds = max_seconds
    return cfg


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def estimate(cfg: RunConfig, sizes: dict[str, int], costs: Costs) -> float:
    """Seconds for one fit of ``cfg`` on data of these sizes (before calibration)."""
    n_eval = sum(n for k, n in sizes.items() if not k.endswith(".train"))
    pool = min(sizes.get("target.train", 0), 2000)  # adapter.VALIDATOR_SAMPLES
    epochs = cfg.train.epochs
    adapting = cfg.adapt.method != "none"
    if cfg.strategy.name == "linear_probe":
        # every split is encoded once (features cached); the head's epochs are nearly free
        encoded = sum(sizes.values())
        head = epochs * sizes.get("source.train", 0) * costs.infer * 0.01
        return costs.run(encoded, 0) + head * (priors.ADAPT_COST if adapting else 1)
    train = epochs * sizes.get("source.train", 0) * (priors.ADAPT_COST if adapting else 1)
    per_epoch_eval = sizes.get("source.val", 0) + (pool if adapting else 0)
    return costs.run(epochs * per_epoch_eval + n_eval + (pool if adapting else 0), train)
