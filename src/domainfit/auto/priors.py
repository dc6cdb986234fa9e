"""What ``domainfit auto`` assumes before it has measured anything, and where each number is from.

Every table cites the benchmark rows it was read from (files under benchmarks/results/). They
order the plan and give first time estimates; the run measures and recalibrates the times, and
chooses among the candidates on this data, so a prior only decides what is tried first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domainfit.baselines import PROBE_LR, PROBE_MIN_EPOCHS


@dataclass(frozen=True)
class Recipe:
    """A strategy's settings (``strategy`` and ``train`` overrides) and its prior accuracy."""

    strategy: str
    prior: float | None  # mean test accuracy in the cited rows (None: no rows)
    train: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    # fewest epochs worth running when the budget shrinks the recipe: below it, skip it
    min_epochs: int = 1

    @property
    def epochs(self) -> int:
        return int(self.train["epochs"])


# The linear probe is the floor, trained exactly as the linear_probe baseline trains it
# (domainfit.baselines), so the finished step doubles as that baseline.
PROBE = Recipe("linear_probe", None, {"epochs": PROBE_MIN_EPOCHS, "lr": PROBE_LR})

# Text (Hugging Face backbones). benchmarks/results/strategies.json, 2026-11-23: all-MiniLM-L6-v2
# on amazon-reviews books/dvd/electronics/kitchen with 200 labelled reviews (the one labelled-data
# size that file holds), 3 seeds each; mean test accuracy over each method's 12 rows:
#   bitfit 81.89, lora 81.47, full 81.25, two_stage 80.94, layerwise_lr 80.54,
#   gradual_unfreeze 74.21, linear_probe 71.46.
# Winners per task: books lora 80.95, dvd bitfit 80.22, electronics lora = full 81.78, kitchen
# full 85.67 (e.g. the kitchen rows of full: 84.0, 87.33, 85.67). The top five lie within a
# point, so all five are tried; gradual_unfreeze, 7 points behind, is left out. Each recipe is
# that file's setup.methods entry.
# Adapters and biases move little per step (strategies.py: their recipes train 10 epochs at
# 2e-3; LoRA at 5e-4 for 5 epochs stayed at chance): cut to one epoch by a tight budget they
# fall far below a full fine-tune of the same length (auto.json, books->kitchen on one core:
# one bitfit epoch, source val 76.5 against the probe's 70.7), so they keep at least half.
TEXT: tuple[Recipe, ...] = (
    Recipe("bitfit", 81.89, {"epochs": 10, "lr": 2e-3}, min_epochs=5),
    Recipe("lora", 81.47, {"epochs": 10, "lr": 2e-3}, min_epochs=5),
    Recipe("full", 81.25, {"epochs": 5, "lr": 5e-5}),
    Recipe("two_stage", 80.94, {"epochs": 6, "lr": 1e-3}, {"head_epochs": 2, "lr_factor": 0.05}),
    Recipe("layerwise_lr", 80.54, {"epochs": 5, "lr": 1e-4}, {"layer_decay": 0.8}),
)
TEXT_LEFT_OUT = {"gradual_unfreeze": "74.21 mean accuracy, 7 points behind the others"}

# Images (efficientnet-lite0). benchmarks/results/pacs_lodo.json: two_stage 48.8 (3 rows) above
# full 45.6 (2 rows) on PACS leave-one-domain-out; the recipes are demo_images.json's two_stage
# (head 1 epoch, top 3 groups at lr x 0.05, frozen BatchNorm) and pacs_lodo.json's full (sgd).
IMAGE: tuple[Recipe, ...] = (
    Recipe(
        "two_stage",
        48.8,
        {"epochs": 4, "lr": 2e-3, "schedule": "cosine"},
        {"head_epochs": 1, "unfreeze_top": 3, "lr_factor": 0.05},
    ),
    Recipe(
        "full",
        45.6,
        {"epochs": 4, "lr": 1e-2, "optimizer": "sgd", "schedule": "cosine", "weight_decay": 5e-4},
    ),
)

# Tables and feature arrays: ``mlp`` starts from random weights, so nothing is probed or partly
# frozen; full training at two learning rates (tests/test_fit_features.py trains tables at 1e-2,
# office-caltech SURF features at 1e-3).
MLP: tuple[Recipe, ...] = (
    Recipe("full", None, {"epochs": 20, "lr": 1e-3}, label="full lr1e-3"),
    Recipe("full", None, {"epochs": 20, "lr": 1e-2}, label="full lr1e-2"),
)

# Adaptation, on top of the best source-only step. benchmarks/results/amazon_text.json (MiniLM,
# 12 Amazon tasks, transductive): mean target accuracy mmd 84.24 (36 rows), dann 81.97 (6 rows),
# full without adaptation 82.16 (36 rows); coral is in its setup but has no rows yet. Its
# "init=source" recipe: start from the source-only model, one epoch of full fine-tuning at 2e-5.
# Those rows also show the limit of choosing without target labels: mean IM ranked full (0.343)
# above mmd (0.314). The label-free score guards against a collapsed adaptation more than it
# ranks close ones.
ADAPT_METHODS = ("mmd", "dann", "coral")
WARM_START = {"epochs": 1, "lr": 2e-5}
SELECT = "im"  # information maximisation: penalises a collapse onto one class, unlike entropy


@dataclass(frozen=True)
class CostPrior:
    infer: float  # seconds per sample, inference
    train: float  # seconds per sample and epoch, forward and backward
    overhead: float  # seconds per run: model load, tokenising, evaluation files, report


# 2-core CPU. Text: strategies.json (200 training + 600 test reviews, length 128): median
# linear_probe 58.1 s over 800 encoded reviews -> 0.073 s each; median full 394.9 s for 5 x 200
# training passes besides ~800 inferences -> 0.34 s each. Images: lite0_speed.json at 224 px,
# batch 32: 44.5 images/s inference, 9.0 images/s training. mlp: tiny; mostly overhead.
CPU_COSTS = {
    "text": CostPrior(0.073, 0.34, 15.0),
    "image": CostPrior(1 / 44.5, 1 / 9.0, 15.0),
    "mlp": CostPrior(2e-5, 1e-4, 3.0),
}
GPU_SPEEDUP = 20.0  # a guess for per-sample costs on a GPU; the measurement replaces it
ADAPT_COST = 2.0  # a target batch rides along with every source batch
