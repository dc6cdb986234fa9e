"""Run folders: default names, and reserving a folder the moment a run starts.

A default name holds the start time to the second, so two runs started together pick the same
one. Checking that it is free and creating it minutes later (after data and model loading) let
the second run fail at the very end of its set-up; reserving it with an atomic ``mkdir`` at the
start, and moving on to ``-2``, ``-3``... when taken, lets both runs go ahead.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from domainfit.errors import ConfigError

_MAX_SUFFIX = 1000  # far beyond any real clash; a bound keeps a broken folder from looping


def stamped(name: str, root: Path = Path("runs")) -> Path:
    return root / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def candidates(path: Path) -> Iterator[Path]:
    """``path``, then ``path-2``, ``path-3``..."""
    yield path
    for n in range(2, _MAX_SUFFIX + 1):
        yield path.with_name(f"{path.name}-{n}")


def free_run_dir(path: Path) -> Path:
    """The first of ``path``, ``path-2``... that does not exist yet (a guess: not reserved)."""
    for candidate in candidates(path):
        if not candidate.exists():
            return candidate
    raise ConfigError(f"no free run folder beside {path}", "choose a folder with --out")


def claim_run_dir(path: Path, unique: bool) -> Path:
    """Create the run folder now, atomically, and return it.

    ``unique`` (a default name): take the first free one of ``path``, ``path-2``...; else the
    folder was asked for by name, and one that exists already is an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for candidate in candidates(path) if unique else iter([path]):
        try:
            candidate.mkdir(exist_ok=False)
        except FileExistsError:
            continue
        return candidate
    if unique:
        raise ConfigError(f"no free run folder beside {path}", "choose a folder with --out")
    raise ConfigError(f"output folder {path} already exists", "choose another --out")


def release_run_dir(path: Path) -> None:
    """Remove a reserved folder that a failed start left empty (anything inside stays)."""
    with suppress(OSError):  # not empty, or gone: nothing of ours to undo
        path.rmdir()


@contextmanager
def released_on_failure(path: Path, active: bool) -> Iterator[None]:
    """Undo a reservation when the run fails before writing anything into its folder (a bad
    config or model found while loading), so failed starts leave no empty folders behind."""
    try:
        yield
    except BaseException:
        if active:
            release_run_dir(path)
        raise
