"""The main job: all-MiniLM-L6-v2 adapted to Amazon kitchen reviews, a frozen-backbone head
(``linear_probe``: features computed once, cached on disk) against full fine-tuning on the same
split."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from domainfit.fit import FitRun


def demo_configs(quick: bool) -> dict[str, dict[str, Any]]:
    base: dict[str, Any] = {
        "seed": 0,
        "data": {"source": "amazon-reviews:kitchen", "limit": 600 if quick else None},
        "clean": {"drop_duplicates": True},
        "split": {"method": "stratified", "seed": 0},
        "model": {"backbone": "minilm", "max_length": 64 if quick else 128},
    }
    probe = {
        **base,
        "name": "demo-linear-probe",
        "strategy": {"name": "linear_probe"},
        "train": {
            "epochs": 2 if quick else 4,
            "batch_size": 32,
            "lr": 1e-2,
            "schedule": "constant",
            "clip_grad_norm": None,
        },
    }
    full = {
        **base,
        "name": "demo-full",
        "strategy": {"name": "full"},
        "train": {"epochs": 1, "batch_size": 16, "lr": 5e-5, "warmup_ratio": 0.1},
    }
    return {"linear_probe": probe, "full": full}


def run_demo(quick: bool, out_root: Path) -> dict[str, FitRun]:
    from domainfit.api import fit
    from domainfit.fit import write_report

    runs = {}
    for name, cfg in demo_configs(quick).items():
        runs[name] = fit(cfg, out=out_root / name)
    # the full fine-tune's report compares it with the probe, sample by sample on the same test set
    write_report(runs["full"].dir, baselines=[runs["linear_probe"].dir])
    return runs


def compare_on_test(a: Path, b: Path, name_a: str, name_b: str) -> str:
    """Paired bootstrap (and McNemar) comparison of two runs on their shared test samples."""
    from domainfit.report.compare import paired
    from domainfit.report.runfolder import RunFolder

    lines = []
    for result in paired(RunFolder(a), RunFolder(b), name_a, name_b):
        if isinstance(result, str):
            lines.append(result)
        else:
            lines.append(f"{result.split}: {result.sentence} (n={result.n})")
    return "\n".join(lines)


def default_demo_root() -> Path:
    return Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
