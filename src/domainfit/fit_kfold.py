"""``split.method: kfold``: one complete child run per fold in ``folds/fold-<i>/``, then the
folds' metrics with their mean and standard deviation in ``cv.json`` and ``metrics.json``.

A resumed k-fold run skips finished folds and resumes the unfinished one from its checkpoint.
With several processes (``torchrun``) every fold trains data-parallel; rank 0 reads and writes
the folders and tells the others what it found.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from domainfit.config import RunConfig
from domainfit.fit import (
    FitRun,
    build_session,
    prepare_data,
    start_run_dir,
    train_session,
    write_report,
)
from domainfit.io_utils import write_json_atomic
from domainfit.progress import stage
from domainfit.train import distributed


def run_kfold(cfg: RunConfig, base_dir: Path | None, run_dir: Path, *, resume: bool) -> FitRun:
    start = time.perf_counter()
    prepared = prepare_data(cfg, base_dir)
    k = len(prepared.folds["source"])
    # fold 0's session is built first so a bad model fails before anything is written
    sessions = {0: build_session(cfg, base_dir, prepared.fold(0))}
    if not resume:
        start_run_dir(run_dir, cfg)
    runs: list[FitRun] = []
    for i in range(k):
        child = run_dir / "folds" / f"fold-{i}"
        finished = distributed.from_main(_finished, child)
        if finished is not None:  # finished before an interruption
            runs.append(finished)
            continue
        name = f"{cfg.name}-fold-{i}"
        with stage(f"fold-{i}"):  # the log's lines say which fold (its folder's name)
            session = sessions.pop(i, None) or build_session(cfg, base_dir, prepared.fold(i))
            again = distributed.from_main(_started, child)
            if not again:
                start_run_dir(child, cfg)
            run = train_session(session, child, resume=again, start=time.perf_counter(), name=name)
        runs.append(run)
        sessions.clear()  # fold 0's model, if fold 0 was finished already
    summary = cv_summary(runs, run_dir)
    seconds = time.perf_counter() - start
    metrics = {**summary["mean"], **{f"{k}.std": v for k, v in summary["std"].items()}}
    if distributed.is_main():
        write_json_atomic(run_dir / "cv.json", summary)
        write_json_atomic(run_dir / "metrics.json", metrics)
        write_json_atomic(run_dir / "run.json", {"name": cfg.name, "seconds": round(seconds, 2)})
        write_report(run_dir)
    return FitRun(run_dir, metrics, [], seconds)


def cv_summary(runs: list[FitRun], run_dir: Path) -> dict[str, Any]:
    """Per fold metrics, and the mean and sample standard deviation of every metric all folds
    report."""
    keys = set.intersection(*(set(r.metrics) for r in runs))
    mean, std = {}, {}
    for key in sorted(keys):
        values = np.array([r.metrics[key] for r in runs], dtype=np.float64)
        mean[key] = float(values.mean())
        std[key] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    folds = [
        {"fold": i, "dir": str(r.dir.relative_to(run_dir)), "metrics": r.metrics}
        for i, r in enumerate(runs)
    ]
    return {"k": len(runs), "folds": folds, "mean": mean, "std": std}


def _started(child: Path) -> bool:
    return (child / "config.yaml").is_file()


def _finished(child: Path) -> FitRun | None:
    """The fold's run, if it finished before an interruption."""
    if not (child / "run.json").is_file():
        return None
    metrics = json.loads((child / "metrics.json").read_text())
    seconds = json.loads((child / "run.json").read_text())["seconds"]
    return FitRun(child, metrics, [], seconds)
