"""How optimistic a ``rank`` score is on rows the candidate was trained on (issue 23, item 7).

Needs the runs of ``benchmarks/new_user_walk.py`` (runs/walk). The walk's source-only MiniLM
run and the pretrained MiniLM are scored (linear-probe and k-NN CV accuracy, LogME) on the
kitchen sentences' training split, which the run was fine-tuned on, and on the validation and
test rows, which it never saw; ``domainfit rank`` now scores every candidate on the latter.

Run:   .venv/bin/python benchmarks/rank_held_out.py   (about 1 min on 2 CPU cores)
Writes benchmarks/results/rank_held_out.json (format: ../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "results" / "rank_held_out.json"
WALK = Path("runs/walk")


def main() -> int:
    from domainfit.config import RunConfig
    from domainfit.data.pipeline import clean_and_split, load_domains
    from domainfit.io_utils import write_json_atomic
    from domainfit.progress import silenced
    from domainfit.rank.candidates import extract, parse_candidate
    from domainfit.rank.scores import knn_cv_accuracy, linear_probe_cv_accuracy, logme

    if not (WALK / "source_only" / "model").is_dir():
        print("run benchmarks/new_user_walk.py first (it writes runs/walk)", file=sys.stderr)
        return 2
    source = {"spec": str(WALK / "kitchen.txt"), "text": 0, "label": 1}
    cfg = RunConfig.model_validate(
        {"data": {"source": source}, "model": {"backbone": "minilm", "max_length": 64}}
    )
    prepared = clean_and_split(load_domains(cfg, None), cfg)
    ds, fold = prepared.clean["source"], prepared.folds["source"][0]
    parts = {
        "train split (the run trained on it)": fold["train"],
        "val+test (unseen)": np.concatenate([fold["val"], fold["test"]]),
    }
    machine = f"{os.cpu_count()}-core CPU ({platform.machine()})"
    rows = []
    for name in (f"run:{WALK.resolve() / 'source_only'}", "minilm"):
        cand = parse_candidate(name)
        for part, idx in parts.items():
            sub = ds.subset(idx)
            y = np.unique(np.array([str(v) for v in sub.labels]), return_inverse=True)[1]
            with silenced():
                f = extract(cand, sub, cfg).features
            scores = {
                "linear_probe": linear_probe_cv_accuracy(f, y),
                "knn": knn_cv_accuracy(f, y),
                "logme": logme(f, y),
            }
            label = "fine-tuned run" if name.startswith("run:") else "pretrained minilm"
            for metric, value in scores.items():
                rows.append(
                    {
                        "task": f"kitchen sentences, {part}, n={len(y)}",
                        "method": label,
                        "seed": 0,
                        "metric": metric,
                        "value": round(float(value), 4),
                        "device": machine,
                    }
                )
            print(f"{label:18s} {part:36s} " + " ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    write_json_atomic(
        OUT,
        {
            "benchmark": "rank_held_out",
            "command": "python benchmarks/rank_held_out.py",
            "date": dt.date.today().isoformat(),
            "machine": machine,
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
