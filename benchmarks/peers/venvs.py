"""Virtualenvs for peer tools whose dependencies conflict with domainfit's pinned stack.

Each peer gets its own venv under ``.venv-peers/<name>`` (git-ignored) and is driven through a
subprocess, so nothing it installs can reach the project's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PEERS_ROOT = Path(__file__).resolve().parents[2] / ".venv-peers"
STAMP = "domainfit-peer-requirements.json"


def _run(cmd: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        # pip's own last line names the failing package; the full log would swamp the message
        tail = (done.stderr.strip().splitlines() or [""])[-1]
        raise RuntimeError(f"peer venv setup failed ({done.returncode}): {' '.join(cmd)}: {tail}")


def peer_python(name: str, requirements: list[str], pypi_only: bool = False) -> Path:
    """The python of venv ``name`` with ``requirements`` installed, created on first use.

    A stamp file holds the requirement list that was installed; a different list reinstalls into
    the same venv, so changing a pin is enough to update a peer.
    """
    venv = PEERS_ROOT / name
    python = venv / "bin" / "python"
    stamp = venv / STAMP
    wanted = sorted(requirements)
    if python.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()) == wanted:
                return python
        except json.JSONDecodeError:
            pass  # a torn stamp from an interrupted install: install again
    if not python.exists():
        # python3 -m venv, not the running interpreter's venv module: the peer must not inherit
        # the main venv (sys.executable may be .venv's python)
        _run(["python3", "-m", "venv", str(venv)])
    stamp.unlink(missing_ok=True)  # no stamp until the install below has succeeded
    env = None
    if pypi_only:
        env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
        env["PIP_CONFIG_FILE"] = os.devnull
    _run([str(python), "-m", "pip", "install", "-q", *requirements], env)
    stamp.write_text(json.dumps(wanted))
    return python


if __name__ == "__main__":
    # python benchmarks/peers/venvs.py NAME REQ...: set up a peer by hand
    print(peer_python(sys.argv[1], sys.argv[2:]))
