"""Is a checkpoint folder whole? Checked before a resume reads any data, so a damaged one is
found in seconds, not after minutes of loading, and an intact earlier one can stand in.

Each checkpoint carries ``manifest.json`` (size and SHA-256 of every file, written last): a
folder matching its manifest is exactly what was saved. Checkpoints written before manifests
existed get structural checks instead: every file present and non-empty, the safetensors
header parses and the file is as long as it says, the ``.pt`` files load, state.json parses.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import struct
from pathlib import Path
from typing import Any

from domainfit.models.torch_pickle import load_weights_only, refusal

MANIFEST = "manifest.json"
FILES = ("model.safetensors", "optimizer.pt", "scheduler.pt", "rng.pt", "state.json")
STEP_NAME = re.compile(r"step-\d+")
_CHUNK = 1 << 20
# a verification reads every byte: a resume checks a folder up front and again when it loads it
_verified: dict[tuple[Any, ...], str | None] = {}


def write_manifest(folder: Path) -> None:
    files = {name: _fingerprint(folder / name) for name in FILES}
    text = json.dumps({"format": "domainfit-checkpoint", "version": 1, "files": files}, indent=2)
    (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


def step_folders(folder: Path) -> list[Path]:
    """Every ``step-<n>`` folder, newest (highest step) first; whole or not."""
    found = [p for p in folder.glob("step-*") if p.is_dir() and STEP_NAME.fullmatch(p.name)]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]), reverse=True)


def pointed(folder: Path, pointer: str) -> tuple[Path | None, str | None]:
    """The folder ``pointer`` (the file naming the newest checkpoint) names, or why none."""
    path = folder / pointer
    if not path.is_file():
        return None, None
    try:
        name = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    if not STEP_NAME.fullmatch(name):
        return None, f"{path} does not name a checkpoint"
    if not (folder / name).is_dir():
        return None, f"checkpoint {name} named by {path} is missing"
    return folder / name, None


def verify_checkpoint(path: Path) -> str | None:
    """None when ``path`` is a whole checkpoint, else what is wrong, in a few words."""
    try:
        stats = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in _files(path))
    except OSError as err:
        return f"cannot be listed ({err.strerror})"
    key = (str(path), stats)
    if key not in _verified:
        _verified[key] = _check(path)
    return _verified[key]


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_file())


def _check(path: Path) -> str | None:
    if (path / MANIFEST).is_file():
        return _check_manifest(path)
    for name in FILES:
        file = path / name
        if not file.is_file():
            return f"{name} is missing"
        if file.stat().st_size == 0:
            return f"{name} is empty"
    return _check_safetensors(path / "model.safetensors") or _check_loads(path)


def _check_manifest(path: Path) -> str | None:
    try:
        files = json.loads((path / MANIFEST).read_text(encoding="utf-8"))["files"]
        expected = {str(k): (int(v["bytes"]), str(v["sha256"])) for k, v in files.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"{MANIFEST} cannot be read"
    for name, (size, digest) in expected.items():
        file = path / name
        if not file.is_file():
            return f"{name} is missing"
        got = file.stat().st_size
        if got != size:
            return f"{name} has {got} of its {size} bytes"
        if _fingerprint(file)["sha256"] != digest:
            return f"{name} does not match its checksum"
    return None


def _check_safetensors(file: Path) -> str | None:
    """The header says where the last tensor ends: a truncated file is shorter than that."""
    size = file.stat().st_size
    try:
        with file.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n > size - 8:
                raise ValueError
            header = json.loads(fh.read(n))
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return f"{file.name} has no readable header"
    expected = 8 + n + max(ends, default=0)
    if size != expected:
        return f"{file.name} has {size} of its {expected} bytes"
    return None


def _check_loads(path: Path) -> str | None:
    for name in FILES[1:]:  # the weights were checked against their header
        try:
            if name.endswith(".pt"):
                load_weights_only(path / name)
            elif not isinstance(json.loads((path / name).read_text(encoding="utf-8")), dict):
                return f"{name} is not a JSON object"
        except pickle.UnpicklingError as err:  # a whole clause: torch's first line is half one
            return f"{name} cannot be read: {refusal(err)}"
        except Exception as err:  # torch reports a torn zip file in many ways
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            return f"{name} cannot be read: {first[:80]}"
    return None


def _fingerprint(file: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return {"bytes": file.stat().st_size, "sha256": digest.hexdigest()}
