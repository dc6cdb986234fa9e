"""Deepchecks on one train/test case from the main venv, through its own peer virtualenv.

No deepchecks import here: deepchecks_case.py runs under the peer's python and answers in JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from .requirements import DEEPCHECKS_REQUIREMENTS
from .venvs import peer_python

CASE_SCRIPT = Path(__file__).resolve().with_name("deepchecks_case.py")
TIMEOUT_S = 900  # 2000x1280 takes 4.5 to 6 min on 2 shared cores


def run_deepchecks(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    workdir: Path,
    outlier_timeout: int | None = None,
    only: list[str] | None = None,
) -> dict[str, Any]:
    """Deepchecks' report (see deepchecks_case.py) on the case; test_y all -1 means unlabelled.

    ``outlier_timeout`` is passed to Outlier Sample Detection (0: no limit; None: its own 10 s,
    which it compares with a projection of its run time, not the time it actually takes).
    """
    python = peer_python("deepchecks", DEEPCHECKS_REQUIREMENTS)
    workdir.mkdir(parents=True, exist_ok=True)
    case = workdir / "deepchecks_case.npz"
    out = workdir / "deepchecks_case.json"
    out.unlink(missing_ok=True)  # a stale report must not pass for this run's
    np.savez(case, train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y)
    cmd = [str(python), str(CASE_SCRIPT), str(case), str(out)]
    if outlier_timeout is not None:
        cmd += ["--outlier-timeout", str(outlier_timeout)]
    if only:
        cmd += ["--only", ",".join(only)]
    # the peer must not pick up the main venv's packages
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"deepchecks took over {TIMEOUT_S} s: {' '.join(cmd)}") from e
    if done.returncode != 0 or not out.exists():
        tail = done.stderr[-3000:]
        raise RuntimeError(f"deepchecks failed ({done.returncode}): {' '.join(cmd)}\n{tail}")
    return json.loads(out.read_text())
