"""The tiny text run the PEFT strategy tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.models.tiny import write_reviews_csv


def text_config(tmp: Path, bert: Path, strategy: dict[str, Any], **train: object) -> dict[str, Any]:
    return {
        "name": "peft",
        "data": {"source": str(write_reviews_csv(tmp / "reviews.csv", n=48))},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "strategy": strategy,
        "train": {"epochs": 2, "batch_size": 8, "lr": 3e-2, **train},
        "track": {"enabled": False},
    }
