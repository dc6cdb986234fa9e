"""Tiny pretrained-like models the tests build and save, so the real loading code runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

WORDS = [
    "good",
    "great",
    "bad",
    "awful",
    "fine",
    "poor",
    "love",
    "hate",
    "ok",
    "item",
    "works",
    "broke",
]


def save_tiny_bert(folder: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    BertTokenizer(str(vocab)).save_pretrained(folder)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=5 + len(WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(cfg).save_pretrained(folder)
    return folder


def write_reviews_csv(path: Path, n: int = 80, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    pos, neg = ["good", "great", "love", "works", "fine"], ["bad", "awful", "hate", "broke", "poor"]
    rows = ["text,label"]
    for i in range(n):
        label = i % 2
        words = list(rng.choice(pos if label else neg, 3)) + list(rng.choice(["item", "ok"], 2))
        rows.append(f"{' '.join(rng.permutation(words))},{label}")
    path.write_text("\n".join(rows) + "\n")
    return path


def write_image_folder(root: Path, n: int = 12, seed: int = 0) -> Path:
    """Two classes a small CNN separates: bright squares vs dark squares, with noise."""
    rng = np.random.default_rng(seed)
    for cls, level in (("bright", 200), ("dark", 50)):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            arr = np.clip(rng.normal(level, 30, (16, 16, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(root / cls / f"{i}.png")
    return root
