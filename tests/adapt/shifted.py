"""Two synthetic domains for adaptation tests: three Gaussian classes in 6-d; the target's
classes sit where the source's are, shifted and rotated, so source-only models err on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def shifted_domains(folder: Path, n: int = 240, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(3, 6))
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    turn = 0.45 * rotation + 0.55 * np.eye(6)

    def domain(shift: float, target: bool, seed_: int) -> pd.DataFrame:
        r = np.random.default_rng(seed_)
        y = r.integers(0, 3, size=n)
        x = centres[y] + r.normal(size=(n, 6))
        if target:
            x = x @ turn + shift
        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)])
        frame["label"] = [f"c{v}" for v in y]
        return frame

    src, tgt = folder / "source.csv", folder / "target.csv"
    domain(0.0, False, seed + 1).to_csv(src, index=False)
    domain(1.5, True, seed + 2).to_csv(tgt, index=False)
    return src, tgt
