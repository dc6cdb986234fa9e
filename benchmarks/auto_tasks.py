"""The tasks of benchmarks/auto.py: their data (the same splits as the benchmarks whose best
hand-picked result they are compared with) and that best result, read from its results file."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORK = Path("runs/bench/auto")
RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Task:
    name: str
    kind: str  # text | features | image
    budget: str  # domainfit auto --budget, and AutoGluon's time limit
    results: str  # the results file holding the hand-picked runs
    results_task: str
    seeds: tuple[int, ...]  # the seeds those rows hold


TASKS = {
    t.name: t
    for t in (
        # strategies.py: 200 labelled kitchen reviews per seed, a fixed 600-review test set
        Task("kitchen-200", "text", "30m", "strategies.json", "amazon-reviews:kitchen", (0, 1, 2)),
        # amazon_text.py: 2,000 labelled books reviews; kitchen's 2,000 are pool and test set
        Task(
            "books->kitchen",
            "text",
            "30m",
            "amazon_text.json",
            "amazon-reviews:books->kitchen",
            (0, 1, 2),
        ),
        # office_caltech.py: all amazon SURF rows labelled, webcam's the pool and test set
        Task("office-caltech:A->W", "features", "5m", "office_caltech.json", "A->W", (0,)),
        # pacs_uda.py: photo labelled, art painting the pool and test set (frozen features there)
        Task("pacs:P->A", "image", "15m", "pacs_uda.json", "P->A", (0,)),
    )
}


NAMED = {
    "office-caltech:A->W": ("office-caltech-surf:amazon", "office-caltech-surf:webcam"),
    "pacs:P->A": ("pacs:photo", "pacs:art_painting"),
}


def best_hand_picked(task: Task) -> tuple[str, dict[int, float]]:
    """The method with the highest mean accuracy over its seeds in ``task.results`` (methods
    chosen with target labels or from several runs are left out), and its accuracy per seed."""
    doc = json.loads((RESULTS / task.results).read_text())
    by_method: dict[str, dict[int, float]] = defaultdict(dict)
    for row in doc["rows"]:
        if row["task"] != task.results_task or row["metric"] != "accuracy":
            continue
        name = row["method"] + (f" (init {row['init']})" if row.get("init") else "")
        by_method[name][int(row["seed"])] = float(row["value"])
    best = max(by_method, key=lambda m: sum(by_method[m].values()) / len(by_method[m]))
    return best, by_method[best]


def prepare(task: Task, seed: int) -> dict[str, Any]:
    """What ``domainfit auto`` is given (source, target, columns) and the test set to score."""
    if task.name == "kitchen-200":
        import pandas as pd

        from strategies import task_data

        frame = pd.read_csv(task_data("kitchen", seed, 200))
        folder = WORK / "data" / f"kitchen-200-s{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        for part in ("train", "test"):
            frame.loc[frame["split"] == part, ["text", "label"]].to_csv(
                folder / f"{part}.csv", index=False
            )
        return {
            "source": str(folder / "train.csv"),
            "target": None,
            "test": str(folder / "test.csv"),
            "columns": ["--label", "label", "--text", "text"],
        }
    if task.name == "books->kitchen":
        import pandas as pd
        from amazon_text import target_csv

        kitchen = target_csv("kitchen", quick=False)
        unlabelled = WORK / "data" / "kitchen-unlabelled.csv"
        unlabelled.parent.mkdir(parents=True, exist_ok=True)
        pd.read_csv(kitchen)[["text"]].to_csv(unlabelled, index=False)  # no label to peek at
        return {
            "source": str(target_csv("books", quick=False)),
            "target": str(unlabelled),
            "test": str(kitchen),
            "columns": ["--label", "label", "--text", "text"],
        }
    # named sets: the target carries labels, which auto reads for its leaderboard only; it is
    # the pool and the test set (transductive)
    source, target = NAMED[task.name]
    return {"source": source, "target": target, "test": target, "columns": []}
