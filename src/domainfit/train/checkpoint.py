"""Checkpoints that a kill at any moment cannot break.

A checkpoint is a folder ``step-<n>/`` holding ``model.safetensors``, ``optimizer.pt`` and
``scheduler.pt`` (tensors and plain values only, read back with ``weights_only=True``),
``rng.pt`` (torch, numpy and Python generator states), ``state.json`` (epoch, step, the
position inside the epoch, the trainer's and the strategy's own state) and ``manifest.json``
(size and checksum of each, see ``checkpoint_files``). The folder is written under a temporary
name and renamed when complete; the file ``latest`` then names it, also replaced atomically.
A step saved twice (a step checkpoint that is also an epoch's end) is swapped in whole: the old
folder is renamed aside only once the new one is complete, and deleted last.

A reader starts from the folder ``latest`` names; when that is missing or damaged (a kill
inside the swap, a truncated file) it falls back to the newest whole one, and says so.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from domainfit.errors import DataError
from domainfit.io_utils import write_json_atomic, write_text_atomic
from domainfit.train.checkpoint_files import (
    pointed,
    step_folders,
    verify_checkpoint,
    write_manifest,
)
from domainfit.train.disk_space import disk_full_as_error

LATEST = "latest"


@dataclass
class Checkpoint:
    path: Path
    state: dict[str, Any]


def cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's tensors, contiguous and on the CPU, as safetensors needs them."""
    return {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}


def rng_state() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def save_checkpoint(
    folder: Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    state: dict[str, Any],
    keep: int = 2,
) -> Path:
    """Write ``folder/step-<step>`` whole, point ``latest`` at it, prune older ones. A full
    disk raises ``DataError`` and leaves the checkpoints as they were."""
    final = folder / f"step-{step:08d}"
    with disk_full_as_error(folder, f"checkpoint {final.name}"):
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{final.name}."))
        try:
            _write_files(tmp, model, optimizer, scheduler, state)
            _swap_in(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        write_text_atomic(folder / LATEST, final.name + "\n")
    _prune(folder, keep, final.name)
    return final


def _write_files(
    tmp: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, state: Any
) -> None:
    save_file(cpu_state(model), str(tmp / "model.safetensors"))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    rng = rng_state()
    torch.save(
        {
            "torch": rng["torch"],
            "numpy": _numpy_state(rng["numpy"]),
            "python": _python_state(rng["python"]),
        },
        tmp / "rng.pt",
    )
    write_json_atomic(tmp / "state.json", state)
    write_manifest(tmp)  # last: a folder with a manifest was written whole


def _swap_in(tmp: Path, final: Path) -> None:
    """Rename the complete ``tmp`` to ``final``. An existing ``final`` (the same step saved
    again, with the epoch's end in its state) stays whole until then: a kill in between leaves
    it renamed aside (pruned later), and readers fall back to the checkpoint before."""
    if not final.exists():
        tmp.replace(final)
        return
    aside = tmp.with_name(tmp.name + ".old")
    final.replace(aside)
    try:
        tmp.replace(final)
    except BaseException:
        aside.replace(final)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def latest_checkpoint(folder: Path) -> Path | None:
    """The folder ``latest`` names if it is complete, else the newest complete one (a cheap
    look: ``resume_point`` also reads the files)."""
    named, _ = pointed(folder, LATEST)
    if named is not None and (named / "state.json").is_file():
        return named
    return next((p for p in step_folders(folder) if (p / "state.json").is_file()), None)


def resume_point(folder: Path) -> Path | None:
    """The checkpoint to resume from: the one ``latest`` names, else the newest intact one
    (a warning says which was skipped and why). None when there is no checkpoint at all;
    ``DataError`` when every one is damaged."""
    named, problem = pointed(folder, LATEST)
    order = [named] if named is not None else []
    order += [p for p in step_folders(folder) if p != named]
    skipped = [problem] if problem else []
    for path in order:
        reason = verify_checkpoint(path)
        if reason is None:
            if skipped:
                _warn(folder, f"{'; '.join(skipped)}; resuming from {path.name}")
            return path
        skipped.append(f"checkpoint {path.name} is damaged ({reason})")
    if not order:
        return None
    raise DataError(
        f"no intact checkpoint to resume from in {folder}: {'; '.join(skipped)}",
        "start the run again with --out NEW_FOLDER (or delete the checkpoints folder to "
        "train this one again from step 0)",
    )


_warned: set[tuple[Path, str]] = set()


def _warn(folder: Path, line: str) -> None:
    from domainfit.train.distributed import is_main

    # a resume checks its checkpoint before loading data and again when it loads it: one line
    if (folder, line) not in _warned and is_main():
        _warned.add((folder, line))
        print(f"warning: {line}", file=sys.stderr)


def load_checkpoint(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> Checkpoint:
    """Restore everything saved, RNG states included; returns the trainer state."""
    try:
        model.load_state_dict(load_file(str(path / "model.safetensors")))
        optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True))
        scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=True))
        rng = torch.load(path / "rng.pt", weights_only=True)
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    except (OSError, RuntimeError, json.JSONDecodeError) as err:
        raise DataError(
            f"checkpoint {path} cannot be read ({err})", "resume from another run or start again"
        ) from None
    set_rng_state(
        {
            "torch": rng["torch"],
            "numpy": _numpy_tuple(rng["numpy"]),
            "python": _python_tuple(rng["python"]),
        }
    )
    return Checkpoint(path, state)


def _numpy_state(st: tuple[Any, ...]) -> dict[str, Any]:
    # torch.load(weights_only=True) accepts tensors and plain containers, not numpy arrays.
    name, keys, pos, has_gauss, gauss = st
    return {
        "name": name,
        "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "gauss": float(gauss),
    }


def _numpy_tuple(d: dict[str, Any]) -> tuple[Any, ...]:
    keys = d["keys"].numpy().astype(np.uint32)
    return (d["name"], keys, d["pos"], d["has_gauss"], d["gauss"])


def _python_state(st: tuple[Any, ...]) -> dict[str, Any]:
    version, internal, gauss = st
    return {"version": version, "internal": list(internal), "gauss": gauss}


def _python_tuple(d: dict[str, Any]) -> tuple[Any, ...]:
    return (d["version"], tuple(d["internal"]), d["gauss"])


def keep_newest(folder: Path, keep: int) -> None:
    """After a finished run: keep the ``keep`` newest complete checkpoints, or none at all
    (``latest`` included, so nothing points at a deleted folder)."""
    if not folder.is_dir():
        return
    if keep == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return
    newest = latest_checkpoint(folder)
    _prune(folder, keep, newest.name if newest is not None else "")


def _prune(folder: Path, keep: int, current: str) -> None:
    steps = sorted(p for p in folder.glob("step-*") if p.is_dir())
    complete = [p for p in steps if (p / "state.json").is_file()]
    stale = complete[:-keep] + [p for p in steps if p not in complete]
    for old in stale:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in folder.glob(".step-*"):  # leftovers of a write killed mid-way
        shutil.rmtree(tmp, ignore_errors=True)
