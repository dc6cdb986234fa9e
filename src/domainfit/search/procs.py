"""The processes of one sweep folder: a lock that keeps a second run of the sweep out while
the first (or any worker it started) lives, workers that die with the process that started
them, and worker logs that each start appends to.

The lock is an ``flock`` on ``sweep.lock``, inherited by the workers: the kernel releases it
when the last of them exits, however they end, so it can never be left stale. The file's text
(host and pids) only tells a refused run whom it waits for.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from domainfit.errors import ConfigError

LOCK_FILE = "sweep.lock"
PARENT_ENV = "DOMAINFIT_SWEEP_PARENT"  # the pid a worker must die with
WAIT_S = 10.0  # workers of a killed sweep take a moment to follow it
_PR_SET_PDEATHSIG = 1


class SweepLock:
    """Held by the sweep's coordinator from start to summary; passed to its workers."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_FILE
        self.handle: IO[str] | None = None

    def __enter__(self) -> SweepLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def fd(self) -> int:
        assert self.handle is not None
        return self.handle.fileno()

    def acquire(self, wait_s: float | None = None) -> None:
        wait_s = WAIT_S if wait_s is None else wait_s
        handle = self.path.open("a+", encoding="utf-8")  # never truncate a holder's record
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(self.path)
                    handle.close()
                    raise ConfigError(
                        f"sweep {self.path.parent} is already running{holder}",
                        "wait for it to end, or stop those processes and run the sweep again",
                    ) from None
                time.sleep(0.2)
        self.handle = handle
        self.record([])

    def record(self, workers: list[int]) -> None:
        assert self.handle is not None
        doc = {"host": socket.gethostname(), "pid": os.getpid(), "workers": workers}
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(json.dumps(doc) + "\n")
        self.handle.flush()

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing drops this process's share of the flock
            self.handle = None


def _holder(path: Path) -> str:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        pids = [doc["pid"], *doc.get("workers", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    return f" (host {doc.get('host')}, pids {', '.join(str(p) for p in pids)})"


def die_with_parent() -> None:
    """In a worker: exit when the coordinator does (killed included). Linux delivers SIGKILL
    on the parent's death; elsewhere a thread watches the coordinator's pid. A worker whose
    coordinator died before this ran exits at once."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    pid = int(parent)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_watch, args=(pid,), daemon=True).start()
    if not alive(pid):
        os._exit(1)


def alive(pid: int) -> bool:
    """The process runs (a zombie, exited but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # an orphan that exited stays a zombie where nothing reaps orphans (containers whose
    # pid 1 is not an init): it is gone all the same
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) is all there is
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _watch(pid: int) -> None:
    while alive(pid):
        time.sleep(1.0)
    os._exit(1)


def open_log(path: Path, header: str) -> IO[bytes]:
    """Append, never truncate: a restart keeps what earlier starts wrote."""
    log = path.open("ab")
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    log.write(f"\n===== {stamp} {header} =====\n".encode())
    log.flush()
    return log


def start_workers(
    cmds: list[list[str]], logs: list[Path], lock: SweepLock, env: dict[str, str]
) -> list[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    env = {**env, PARENT_ENV: str(os.getpid())}
    procs = []
    try:
        for k, (cmd, path) in enumerate(zip(cmds, logs, strict=True)):
            log = open_log(path, f"worker {k} started by pid {os.getpid()}")
            try:
                proc = subprocess.Popen(
                    cmd, stdout=log, stderr=subprocess.STDOUT, env=env, pass_fds=(lock.fd,)
                )
            except BaseException:
                log.close()
                raise
            procs.append((proc, log))
    except BaseException:
        stop_workers(procs)
        raise
    lock.record([p.pid for p, _ in procs])
    return procs


def stop_workers(procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]]) -> None:
    """Kill the workers still running (the coordinator stops: an error, Ctrl-C)."""
    for proc, _ in procs:
        if proc.poll() is None:
            proc.kill()
    for proc, log in procs:
        proc.wait()
        log.close()
