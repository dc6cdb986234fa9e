"""Resume for ``domainfit auto``: ``OUT/auto_state.json`` lists the finished steps with their run
folder, scores and times. Running the same command again skips them; a step stopped mid-run
(its folder has no run.json) is deleted and run again. The budget covers the whole experiment:
the time earlier attempts spent is carried over."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domainfit.errors import ConfigError
from domainfit.io_utils import write_json_atomic

FORMAT = "domainfit-auto"
VERSION = 1
STATE_FILE = "auto_state.json"
STEPS_DIR = "steps"


@dataclass
class AutoState:
    out: Path
    command: dict[str, Any]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    spent: float = 0.0  # seconds of earlier attempts, and of this one as it goes

    @property
    def path(self) -> Path:
        return self.out / STATE_FILE

    def save(self) -> None:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "command": self.command,
            "spent_seconds": round(self.spent, 2),
            "steps": self.steps,
        }
        write_json_atomic(self.path, doc)

    def record(self, step_id: str, entry: dict[str, Any], spent: float) -> None:
        self.steps[step_id] = entry
        self.spent = spent
        self.save()

    def finished(self, step_id: str) -> dict[str, Any] | None:
        """The entry of a step that ran to its end (done or failed), else None."""
        entry = self.steps.get(step_id)
        if entry is None or entry.get("status") not in ("done", "failed"):
            return None
        if entry["status"] == "done" and not (self.out / entry["dir"] / "run.json").is_file():
            return None  # its folder went missing: run it again
        return entry

    def step_dir(self, step_id: str) -> Path:
        return self.out / STEPS_DIR / step_id

    def clear_interrupted(self) -> list[str]:
        """Delete the folders of steps stopped mid-run; their names."""
        removed = []
        root = self.out / STEPS_DIR
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            entry = self.steps.get(folder.name)
            if folder.is_dir() and not (folder / "run.json").is_file():
                if entry is not None and entry.get("status") == "failed":
                    continue  # kept as the failure left it, for its log
                shutil.rmtree(folder)
                removed.append(folder.name)
        return removed


def open_state(out: Path, command: dict[str, Any]) -> AutoState | None:
    """The state of an earlier run of this command in ``out``; None when ``out`` is new.
    Any other existing ``out`` is refused before anything is written."""
    if not out.exists():
        return None
    fix = "choose another --out, or delete that folder"
    if not out.is_dir():
        raise ConfigError(f"--out {out} exists and is a file", fix)
    path = out / STATE_FILE
    if not path.is_file():
        raise ConfigError(f"--out {out} exists and is not a domainfit auto folder", fix)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise ConfigError(f"{path} is not readable JSON", fix) from None
    if not isinstance(doc, dict) or (doc.get("format"), doc.get("version")) != (FORMAT, VERSION):
        raise ConfigError(f"{path} is not a domainfit auto state of version {VERSION}", fix)
    before = doc.get("command", {})
    if before != command:
        keys = sorted(k for k in {*before, *command} if before.get(k) != command.get(k))
        raise ConfigError(
            f"--out {out} holds an auto run of another command (differs in {', '.join(keys)})",
            "rerun that same command to resume it, or " + fix,
        )
    return AutoState(out, command, dict(doc.get("steps", {})), float(doc.get("spent_seconds", 0)))


def new_state(out: Path, command: dict[str, Any]) -> AutoState:
    out.mkdir(parents=True, exist_ok=False)
    state = AutoState(out, command)
    state.save()
    return state
