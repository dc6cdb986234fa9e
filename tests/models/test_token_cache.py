"""Token ids cached on disk across runs (data/token_cache.py, models/inputs.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import domainfit.data.token_cache as token_cache
from domainfit.config import ModelConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.token_cache import TokenCache, tokenize, tokenizer_fingerprint
from domainfit.models.backbone import load_backbone
from domainfit.models.inputs import input_encoder
from tests.models.tiny import save_tiny_bert

TEXTS = ["good item works", "bad", None, "love it love it great fine ok item", "hate poor"]


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("bert"))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry (the number of texts) per real tokenisation by the cache."""
    seen: list[int] = []

    def counted(tok: Any, texts: Any, max_length: int, truncation: Any = "head") -> list[list[int]]:
        seen.append(len(texts))
        return tokenize(tok, texts, max_length, truncation)

    monkeypatch.setattr(token_cache, "tokenize", counted)
    return seen


def _encode(bert_dir: Path, cache: Path | None, texts: list[Any], max_length: int = 16) -> Any:
    cfg = ModelConfig(backbone=f"hf:{bert_dir}", max_length=max_length)
    encode, _ = input_encoder(load_backbone(cfg), cfg, token_cache=cache)
    return encode(DomainDataset("d", "text", texts))["input_ids"]


def test_second_run_reads_the_cache_and_matches_tokenising(
    bert_dir: Path, tmp_path: Path, calls: list[int]
) -> None:
    plain = _encode(bert_dir, None, TEXTS)
    first = _encode(bert_dir, tmp_path, TEXTS)
    second = _encode(bert_dir, tmp_path, TEXTS)  # a new encoder and tokenizer: another run
    assert calls == [len(TEXTS)]
    assert first == second == plain
    assert len(list(tmp_path.glob("*.safetensors"))) == 1


def test_max_length_or_texts_change_the_entry(
    bert_dir: Path, tmp_path: Path, calls: list[int]
) -> None:
    _encode(bert_dir, tmp_path, TEXTS)
    short = _encode(bert_dir, tmp_path, TEXTS, max_length=8)
    edited = _encode(bert_dir, tmp_path, [*TEXTS[:-1], "hate poor item"])
    assert len(calls) == 3
    assert max(len(r) for r in short) == 8
    assert edited[-1] != _encode(bert_dir, None, TEXTS)[-1]
    assert len(list(tmp_path.glob("*.safetensors"))) == 3


def test_split_boundaries_are_part_of_the_key() -> None:
    fp = "tok"
    assert token_cache.cache_key(fp, 8, ["ab", "c"]) != token_cache.cache_key(fp, 8, ["a", "bc"])


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_damaged_file_is_ignored_and_rewritten(
    bert_dir: Path, tmp_path: Path, calls: list[int], damage: str
) -> None:
    expected = _encode(bert_dir, tmp_path, TEXTS)
    (path,) = tmp_path.glob("*.safetensors")
    raw = path.read_bytes()
    broken = {"truncate": raw[: len(raw) // 2], "garbage": b"\x00" * 40, "empty": b""}[damage]
    path.write_bytes(broken)
    assert _encode(bert_dir, tmp_path, TEXTS) == expected
    assert path.read_bytes() == raw  # written again, whole
    assert _encode(bert_dir, tmp_path, TEXTS) == expected
    assert len(calls) == 2  # the first run and the rebuild; the last call read the file


def test_a_file_for_other_rows_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "x.safetensors"
    token_cache.write_ids(path, [[1, 2], [3]])
    assert token_cache.read_ids(path, 2) == [[1, 2], [3]]
    assert token_cache.read_ids(path, 3) is None


def test_no_temporary_files_are_left(bert_dir: Path, tmp_path: Path) -> None:
    _encode(bert_dir, tmp_path, TEXTS)
    assert [p.suffix for p in tmp_path.iterdir()] == [".safetensors"]


def test_the_tokenizer_is_fast_and_its_fingerprint_follows_its_vocabulary(
    bert_dir: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(bert_dir, local_files_only=True, use_fast=True)
    assert tok.is_fast
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    vocab = (bert_dir / "vocab.txt").read_text().splitlines()
    (other_dir / "vocab.txt").write_text("\n".join([*vocab, "extra"]) + "\n")
    from transformers import BertTokenizerFast

    other = BertTokenizerFast(str(other_dir / "vocab.txt"))
    same = AutoTokenizer.from_pretrained(bert_dir, local_files_only=True, use_fast=True)
    assert tokenizer_fingerprint(tok) == tokenizer_fingerprint(same)
    assert tokenizer_fingerprint(tok) != tokenizer_fingerprint(other)


def test_an_unwritable_folder_only_warns(bert_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    tok = AutoTokenizer.from_pretrained(bert_dir, local_files_only=True, use_fast=True)
    with pytest.warns(UserWarning, match="token cache not written"):
        ids = TokenCache(blocker / "sub", tok).ids(["good item"], 16)
    assert ids == tokenize(tok, ["good item"], 16)
