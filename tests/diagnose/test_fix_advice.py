"""No finding suggests a setting the config already has (issue 23: ``split_leakage`` suggested
clean.drop_duplicates with it on). The siblings: each fix below changes with the config."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

import domainfit
from domainfit.config import ModelConfig
from domainfit.diagnose.advice import Suggestion, advise, equals
from domainfit.diagnose.feature_findings import Labelled, domain_gap, label_shift
from domainfit.diagnose.input_findings import text_mismatch
from domainfit.diagnose.lr_findings import lr_findings
from domainfit.diagnose.run_findings import fit_findings
from tests.models.tiny import WORDS, save_tiny_bert


def _domain(seed: int, shift: float = 0.0, priors: float = 0.5, n: int = 600) -> Labelled:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < priors).astype(int)
    x = rng.normal(size=(n, 8)) + np.where(y[:, None] == 1, 1.5, -1.5) * (np.arange(8) < 2)
    return Labelled(f"d{seed}", x + shift, y, [str(i) for i in range(n)])


def test_advise_keeps_only_what_is_not_set() -> None:
    options = [Suggestion("a: true", "a", equals(True)), Suggestion("b: 1", "x.b", equals(1))]
    assert advise({"a": False, "x": {"b": 1}}, options, "all set") == "a: true"
    assert advise({"a": True, "x": {"b": 1}}, options, "all set") == "all set"
    assert advise({}, options, "all set") == "a: true; b: 1"  # an older run's missing keys


def test_domain_gap_fix_follows_strategy_and_target_labels() -> None:
    src, tgt = _domain(0), _domain(1, shift=2.0)
    (plain,) = domain_gap(src, tgt)
    assert "data.target_labels: 50" in plain.fix and "strategy.name: full" in plain.fix
    cfg = {"strategy": {"name": "full"}, "data": {"target_labels": 50}}
    (f,) = domain_gap(src, tgt, cfg=cfg)
    assert "strategy.name" not in f.fix and "data.target_labels: 50" not in f.fix
    assert "data.target_labels is 50" in f.fix
    cfg = {"adapt": {"method": "cdan"}, "baselines": ["source_only"]}
    (f,) = domain_gap(src, tgt, adapting="adapt.method: cdan", cfg=cfg)
    assert "keep baselines" not in f.fix and "try adapt.method: cdan" not in f.fix


def test_label_shift_fix_follows_the_adaptation() -> None:
    src, tgt = _domain(0), _domain(1, priors=0.15)
    (plain,) = label_shift(src, tgt, 2)
    assert "adapt.method: cdan" in plain.fix
    cfg = {"adapt": {"method": "dann", "self_training": {"enabled": True}}}
    (f,) = label_shift(src, tgt, 2, cfg=cfg)
    assert "adapt.method: cdan" not in f.fix and "balanced_accuracy" in f.fix


def test_training_fixes_follow_the_run_config() -> None:
    clipped = {"train": {"lr": 1e-3, "clip_grad_norm": 1.0}}
    nan = lr_findings([0.7, 0.6, None], math.log(2), None, clipped)
    assert nan[0].fix.startswith("train.lr: 0.0001 (10x lower than 0.001")
    assert "clip_grad_norm" not in nan[0].fix
    unclipped = {"train": {"lr": 1e-3, "clip_grad_norm": None}}
    assert "clip_grad_norm: 1.0" in lr_findings([0.7, None], None, None, unclipped)[0].fix
    rising = [
        {"train.loss": 1.0 - 0.1 * e, "val.loss": v} for e, v in enumerate([0.5, 0.4, 0.6, 0.8])
    ]
    plain = next(f for f in fit_findings(rising, [], None, None) if f.code == "overfitting")
    assert "train.early_stopping" in plain.fix and "regularize.l2sp" in plain.fix
    stops = {"train": {"early_stopping": {"metric": "val.loss"}}, "strategy": {"name": "lora"}}
    (f,) = fit_findings(rising, [], None, None, stops)
    assert "early_stopping" not in f.fix and "lora" not in f.fix
    flat = [{"train.loss": 0.69}]
    cfg = {"strategy": {"name": "full"}, "model": {"head": {"type": "mlp"}}}
    (f,) = fit_findings(flat, [], math.log(2), None, cfg)
    assert f.code == "underfitting" and f.fix == "more train.epochs or a higher train.lr"


def test_texts_past_512_tokens_are_not_told_to_raise_max_length_to_512(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(save_tiny_bert(tmp_path / "bert"))
    long = " ".join(WORDS * 60)  # 720 words
    ds = domainfit.from_pandas(pd.DataFrame({"text": [long] * 10, "label": [0, 1] * 5}))
    (f,) = text_mismatch(ds, tok, ModelConfig(backbone="minilm", max_length=512))
    assert "model.max_length: 512" not in f.fix and "already 512" in f.fix
    (f,) = text_mismatch(ds, tok, ModelConfig(backbone="minilm", max_length=128))
    assert f.fix.startswith("model.max_length: 512")
