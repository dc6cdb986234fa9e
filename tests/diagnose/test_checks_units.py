"""The training and input checks on hand-made evidence, where a full run cannot plant the
fault (domainfit itself keeps learning rates on plan)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

import domainfit
from domainfit.config import ModelConfig
from domainfit.diagnose.input_findings import image_mismatch, text_mismatch
from domainfit.diagnose.loss_curve import spikes
from domainfit.diagnose.lr_findings import lr_findings
from domainfit.diagnose.run_findings import ineffective_lr
from domainfit.models.image_convention import IMAGENET_MEAN, IMAGENET_STD
from tests.models.tiny import WORDS, save_tiny_bert

PLAN = [
    {"group": "layer.0", "params": 10, "trains": True, "epochs": [None, 1e-4]},
    {"group": "layer.1", "params": 10, "trains": True, "epochs": [1e-4, 1e-3]},
    {"group": "head", "params": 2, "trains": True, "epochs": [1e-3, 1e-3]},
]


def _trace(rates_by_epoch: list[dict[str, float]], steps: int = 5) -> list[dict]:
    rows = []
    for e, rates in enumerate(rates_by_epoch):
        for k in range(steps):
            scale = 1.0 - 0.1 * k  # a schedule scales every group alike
            step = e * steps + k
            lr = {g: r * scale for g, r in rates.items()}
            rows.append({"step": step, "epoch": step / steps, "lr": lr})
    return rows


def test_learning_rates_on_plan_pass() -> None:
    trace = _trace(
        [
            {"layer.0": 0.0, "layer.1": 1e-4, "head": 1e-3},
            {"layer.0": 1e-4, "layer.1": 1e-3, "head": 1e-3},
        ]
    )
    assert ineffective_lr(trace, PLAN) == []


def test_a_frozen_group_that_steps_and_a_wrong_ratio_are_caught() -> None:
    # epoch 0: layer.0 steps although planned frozen (timm #2691-style group mix-up);
    # epoch 1: layer.0 at the head's rate instead of 10x lower
    trace = _trace(
        [
            {"layer.0": 1e-4, "layer.1": 1e-4, "head": 1e-3},
            {"layer.0": 1e-3, "layer.1": 1e-3, "head": 1e-3},
        ]
    )
    (finding,) = ineffective_lr(trace, PLAN)
    assert finding.code == "ineffective_lr" and finding.severity == "high"
    assert any("planned frozen" in p for p in finding.examples)
    assert finding.evidence["mismatches"] == 10  # 5 samples per epoch, each one wrong


def test_nan_loss_is_lr_too_high() -> None:
    (f,) = lr_findings([0.7, 0.6, 5.0, None], math.log(2), None)
    assert f.code == "lr_too_high" and f.severity == "high" and f.evidence["step"] == 3


def test_spikes_are_found_against_the_running_median() -> None:
    rng = np.random.default_rng(0)
    losses = list(0.5 + 0.01 * rng.normal(size=100))
    losses[50] = losses[80] = 3.0
    assert spikes(losses) == [50, 80]


def test_truncated_and_unknown_text(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(save_tiny_bert(tmp_path / "bert"))
    long = " ".join(WORDS * 4)  # 48 words: cut at 16 tokens
    ds = domainfit.from_pandas(pd.DataFrame({"text": [long] * 10, "label": [0, 1] * 5}))
    codes = [f.title for f in text_mismatch(ds, tok, ModelConfig(backbone="minilm", max_length=16))]
    assert any("cut at 16 tokens" in t for t in codes)
    foreign = domainfit.from_pandas(
        pd.DataFrame({"text": ["zebra quokka good"] * 10, "label": [0, 1] * 5})
    )
    found = text_mismatch(foreign, tok, ModelConfig(backbone="minilm", max_length=64))
    assert [f.severity for f in found] == ["high"]  # 2 of 5 tokens unknown
    fine = domainfit.from_pandas(pd.DataFrame({"text": ["good item"] * 10, "label": [0, 1] * 5}))
    assert text_mismatch(fine, tok, ModelConfig(backbone="minilm", max_length=64)) == []


def test_images_unlike_imagenet() -> None:
    ds = domainfit.from_numpy(np.zeros((4, 2)), np.array([0, 1, 0, 1]))
    rng = np.random.default_rng(0)
    mean, std = np.reshape(IMAGENET_MEAN, (1, 3, 1, 1)), np.reshape(IMAGENET_STD, (1, 3, 1, 1))
    natural = (mean + std * rng.normal(size=(16, 3, 8, 8))).astype(np.float32)
    assert image_mismatch(ds, natural) == []
    digits = np.zeros((16, 3, 8, 8), dtype=np.float32)  # grey digits: black ground, white stroke
    digits[:, :, 3:5, 3:5] = 1.0
    (f,) = image_mismatch(ds, digits)
    assert f.code == "input_mismatch" and f.severity == "medium"
    assert f.evidence["grayscale"] is True
