"""What the PACS benchmarks share: the domains, the tasks, and frozen EfficientNet-Lite0 features.

Features are ``domainfit.embed`` of each whole domain (pooled 1280-d, the backbone's own input
convention unless ``size`` overrides the image size), computed once and kept as .npz under
runs/bench/pacs/ (git-ignored), so every later method reads them in a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DOMAINS = {"P": "photo", "A": "art_painting", "C": "cartoon", "S": "sketch"}
TASKS = [f"{s}->{t}" for s in DOMAINS for t in DOMAINS if s != t]
WORK = Path("runs/bench/pacs")
BACKBONE = "efficientnet-lite0"


@dataclass
class Features:
    x: np.ndarray  # (n, 1280) float32
    y: np.ndarray  # (n,) int64, the 7 classes in alphabetical order
    path: Path  # the same arrays as .npz, readable by domainfit as a features source


def split_task(task: str) -> tuple[str, str]:
    s, t = task.split("->")
    return DOMAINS[s], DOMAINS[t]


def features(names: list[str], size: int | None = None, threads: int = 2) -> dict[str, Features]:
    """Each domain's frozen features, embedded on first use."""
    import torch

    import domainfit

    torch.set_num_threads(threads)
    folder = WORK / f"features-{size or 'own'}"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names:
        path = folder / f"{name}.npz"
        if not path.is_file():
            start = time.perf_counter()
            ds = domainfit.load_data(f"pacs:{name}")
            x = domainfit.embed(ds, BACKBONE, image_size=size, batch_size=64)
            tmp = path.with_name(path.stem + ".tmp.npz")
            np.savez(tmp, X=x.astype(np.float32), y=np.asarray(ds.labels, dtype=np.int64))
            tmp.replace(path)
            took = time.perf_counter() - start
            print(f"embedded {name}: {x.shape} in {took:.0f} s ({len(x) / took:.1f} img/s)")
        with np.load(path) as f:
            out[name] = Features(f["X"], f["y"], path)
    return out


if __name__ == "__main__":
    import sys

    features(list(DOMAINS.values()), int(sys.argv[1]) if len(sys.argv) > 1 else None)
