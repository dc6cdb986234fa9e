"""Files a run writes besides checkpoints: the final weights and the per-step losses."""

from __future__ import annotations

import json
import math
from pathlib import Path

from safetensors.torch import save_file
from torch import nn

from domainfit.train.checkpoint import cpu_state
from domainfit.train.disk_space import disk_full_as_error


def save_weights(model: nn.Module, path: Path) -> None:
    """The model's weights as safetensors, replaced atomically (``predict`` reads them). A full
    disk raises ``DataError`` and leaves the previous weights and no partial file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with disk_full_as_error(path.parent, path.name):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            save_file(cpu_state(model), str(tmp))
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)


def write_step_losses(run_dir: Path, losses: list[float], steps_per_epoch: int) -> None:
    """``losses.jsonl``: one row per optimizer step; a non-finite loss is written as null."""
    from domainfit.io_utils import write_text_atomic

    rows = [
        {
            "step": i,
            "epoch": round(i / max(1, steps_per_epoch), 4),
            "loss": v if math.isfinite(v) else None,
        }
        for i, v in enumerate(losses)
    ]
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(run_dir / "losses.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
