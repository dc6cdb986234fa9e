"""Where the shared public data sets live."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "DOMAINFIT_DATA"


def data_root() -> Path:
    """``$DOMAINFIT_DATA``, else ``../shared/data`` beside the working directory or the repo."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    for candidate in (Path.cwd().parent / "shared" / "data", repo.parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "data"
