"""Unsupervised domain adaptation on the Amazon reviews' raw text with all-MiniLM-L6-v2.

12 tasks source -> target over books, dvd, electronics, kitchen. Protocol: all 2,000 labelled
source reviews train (10% kept for validation); the target's 2,000 reviews are the unlabelled
pool and the test set (transductive, as in the DANN/JDA benchmarks). Methods:

- ``probe``, ``full``: source-only (frozen MiniLM + linear head; full fine-tuning). One model per
  source domain serves its three targets (``domainfit.predict`` on each target).
- ``dann``, ``coral``, ``mmd``, ``self_training``: full fine-tuning plus the adaptation loss,
  one run per task.
- ``full_more``: the control for ``--init source``: the source-only model trained one more epoch
  on the source alone, so a gain of the adapted runs is not just their extra epoch.

``--init pretrained`` (the classic protocol) starts each adapted run from MiniLM's pretrained
weights and trains it as long as ``full`` (3 epochs, two batches a step). ``--init source``
(the default; a third of the compute) starts it from this source's ``full`` model (trained first
if missing) and adapts for one epoch at 2e-5, the way a practitioner holding a source-only model
would; self-training then pseudo-labels from that model at once.

Settings are the usual recipe, fixed before looking at any target label. Per task the script
also reports the model a label-free validator (information maximisation on the target pool)
would choose among all methods, next to the one an oracle with target labels would choose.

Run:   .venv/bin/python benchmarks/amazon_text.py [--quick] [--methods full,dann] [--sources ..]
       [--targets ..] [--seeds 0,1,2] [--init source|pretrained]
Quick: source kitchen, targets books and electronics, 400 reviews per domain, length 64, 1 epoch.
Results: benchmarks/results/amazon_text[_quick].json (format: ../shared/docs/BENCHMARKS.md),
written after every run; rows already there are skipped, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from results_file import append_rows

DOMAINS = ("books", "dvd", "electronics", "kitchen")
WORK = Path("runs/bench/amazon_text")
RESULTS = Path(__file__).parent / "results"
SOURCE_ONLY = ("probe", "full", "full_more")
ADAPT: dict[str, dict[str, Any]] = {
    "dann": {"method": "dann", "weight": 1.0},
    "coral": {"method": "coral", "weight": 1.0},
    "mmd": {"method": "mmd", "weight": 1.0},
    "self_training": {"self_training": {"enabled": True, "threshold": 0.9, "start_epoch": 1}},
}
METHODS = (*SOURCE_ONLY, *ADAPT)


def base_config(source: str, seed: int, quick: bool) -> dict[str, Any]:
    return {
        "name": "amazon-text",
        "seed": seed,
        "data": {"source": f"amazon-reviews:{source}", **({"limit": 400} if quick else {})},
        "split": {"method": "stratified", "train": 0.9, "val": 0.1, "test": 0.0},
        "model": {"backbone": "minilm", "max_length": 64 if quick else 128},
        "strategy": {"name": "full"},
        "train": {
            "epochs": 1 if quick else 3,
            "batch_size": 16,
            "lr": 5e-5,
            "schedule": "linear",
            "warmup_ratio": 0.1,
            # batches of similar length: 2.5x cheaper epochs, same accuracy (text_pipeline.py)
            "bucket_by_length": True,
        },
        "track": {"enabled": False},
    }


def warm_start(cfg: dict[str, Any], source: str, seed: int, quick: bool) -> dict[str, Any]:
    """``cfg`` continued from this source's ``full`` model for one epoch at a lower rate."""
    run_dir = WORK / "runs" / f"full-{source}-s{seed}{'-quick' if quick else ''}"
    if not (run_dir / "metrics.json").is_file():
        source_only(source, [], "full", seed, quick)
    cfg["model"]["weights"] = str(run_dir / "model" / "model.safetensors")
    cfg["train"].update({"epochs": 1, "lr": 2e-5})
    return cfg


def probe_config(cfg: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(cfg))
    out["strategy"] = {"name": "linear_probe", "cache_dir": str(WORK / "cache")}
    out["train"] = {"epochs": 40, "batch_size": 32, "lr": 1e-2, "schedule": "constant"}
    return out


def source_only(source: str, targets: list[str], method: str, seed: int, quick: bool) -> dict:
    """Train once on ``source``; accuracy and IM score on each target."""
    import pandas as pd

    import domainfit
    from domainfit.adapt.validators import information_maximization, snd

    cfg = base_config(source, seed, quick)
    cfg = probe_config(cfg) if method == "probe" else cfg
    cfg = warm_start(cfg, source, seed, quick) if method == "full_more" else cfg
    run_dir = WORK / "runs" / f"{method}-{source}-s{seed}{'-quick' if quick else ''}"
    start = time.perf_counter()
    if not (run_dir / "metrics.json").is_file():
        shutil.rmtree(run_dir, ignore_errors=True)
        domainfit.fit(cfg, out=run_dir)
        train_seconds = time.perf_counter() - start
    else:  # a model trained by an earlier, interrupted call: report its training time
        train_seconds = json.loads((run_dir / "run.json").read_text())["seconds"]
    out: dict[str, dict[str, float]] = {}
    for target in targets:
        spec = target_csv(target, quick)
        preds = domainfit.predict(run_dir, str(spec), out=run_dir / f"pred-{target}.csv")
        probs = preds[[c for c in preds.columns if c.startswith("p:")]].to_numpy()
        truth = pd.read_csv(spec)["label"].astype(str).to_numpy()
        acc = float((preds["prediction"].astype(str).to_numpy() == truth).mean())
        out[target] = {
            "accuracy": acc,
            "im": information_maximization(probs),
            "snd": snd(probs),
            "seconds": train_seconds,
        }
    return out


def target_csv(target: str, quick: bool) -> Path:
    """The target's reviews as a CSV with string labels (the same for every method)."""
    path = WORK / "data" / f"{target}{'-quick' if quick else ''}.csv"
    if path.is_file():
        return path
    import pandas as pd

    import domainfit

    ds = domainfit.load_data(f"amazon-reviews:{target}")
    frame = pd.DataFrame({"text": list(ds.inputs), "label": [str(v) for v in ds.labels]})
    if quick:
        frame = frame.sample(400, random_state=0).reset_index(drop=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def adapted(
    source: str, target: str, method: str, seed: int, quick: bool, init: str
) -> dict[str, Any]:
    import domainfit

    cfg = base_config(source, seed, quick)
    cfg["data"]["target"] = {"spec": str(target_csv(target, quick)), "text": "text"}
    cfg["adapt"] = {"protocol": "transductive", **ADAPT[method]}
    if init == "source":
        cfg = warm_start(cfg, source, seed, quick)
    if (quick or init == "source") and "self_training" in cfg["adapt"]:
        cfg["adapt"]["self_training"] = {**cfg["adapt"]["self_training"], "start_epoch": 0}
    name = f"{method}-{source}-{target}-s{seed}-{init}{'-quick' if quick else ''}"
    run_dir = WORK / "runs" / name
    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.perf_counter()
    run = domainfit.fit(cfg, out=run_dir)
    m = run.metrics
    return {
        "accuracy": m["target.test.accuracy"],
        "im": m["target.pool.im"],
        "snd": m["target.pool.snd"],
        "seconds": time.perf_counter() - start,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sources", default=",".join(DOMAINS))
    parser.add_argument("--targets", default=",".join(DOMAINS), help="only these tasks' rows")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--init", choices=("source", "pretrained"), default="source")
    args = parser.parse_args()
    import torch

    from domainfit.progress import silenced

    torch.set_num_threads(args.threads)
    sources = ["kitchen"] if args.quick else args.sources.split(",")
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        print(f"unknown methods {unknown}; known: {', '.join(METHODS)}", file=sys.stderr)
        return 2
    bad = sorted(set(args.sources.split(",") + args.targets.split(",")) - set(DOMAINS))
    if bad:
        print(f"unknown domains {bad}; known: {', '.join(DOMAINS)}", file=sys.stderr)
        return 2
    seeds = [int(s) for s in args.seeds.split(",")]
    out = RESULTS / f"amazon_text{'_quick' if args.quick else ''}.json"
    doc = _load(out, args.quick)
    # source-only rows do not depend on --init; rows before it existed were "pretrained"
    done = {
        (
            r["task"],
            r["method"],
            r["seed"],
            args.init if r["method"] in SOURCE_ONLY else r.get("init", "pretrained"),
        )
        for r in doc["rows"]
    }
    WORK.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        for source in sources:
            targets = ["books", "electronics"] if args.quick else DOMAINS
            targets = [t for t in targets if t != source and t in args.targets.split(",")]
            for method in methods:
                todo = [
                    t for t in targets if (_task(source, t), method, seed, args.init) not in done
                ]
                if not todo:
                    continue
                if method in SOURCE_ONLY:  # one model for all targets
                    with silenced():
                        results = source_only(source, todo, method, seed, args.quick)
                    for target, res in results.items():
                        _report(out, doc, _task(source, target), method, seed, res)
                    continue
                for target in todo:  # one run per task, recorded as soon as it ends
                    with silenced():
                        res = adapted(source, target, method, seed, args.quick, args.init)
                    res["init"] = args.init
                    _report(out, doc, _task(source, target), method, seed, res)
    print(summary(doc["rows"]))
    print(seed_spread(doc["rows"]))
    return 0


def _report(
    out: Path, doc: dict[str, Any], task: str, method: str, seed: int, res: dict[str, Any]
) -> None:
    _record(out, doc, task, method, seed, res)
    print(
        f"{task} {method} seed {seed}: {100 * res['accuracy']:.2f}% (IM {res['im']:.3f}) "
        f"in {res['seconds']:.0f} s",
        flush=True,
    )


def _task(source: str, target: str) -> str:
    return f"amazon-reviews:{source}->{target}"


def _record(
    out: Path, doc: dict[str, Any], task: str, method: str, seed: int, res: dict[str, Any]
) -> None:
    rows = [
        {
            "task": task,
            "method": method,
            "seed": seed,
            "metric": metric,
            "value": round(100 * res[metric] if metric == "accuracy" else res[metric], 4),
            "seconds": round(res["seconds"], 1),
            **({"init": res["init"]} if "init" in res else {}),
        }
        for metric in ("accuracy", "im", "snd")
    ]
    append_rows(out, doc, rows)  # several processes (say, one per source) may share the file


def _load(out: Path, quick: bool) -> dict[str, Any]:
    if out.is_file():
        return json.loads(out.read_text())
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "2-core CPU"
    return {
        "benchmark": "amazon_text" + ("_quick" if quick else ""),
        "command": "python benchmarks/amazon_text.py" + (" --quick" if quick else ""),
        "date": dt.date.today().isoformat(),
        "machine": device,
        "setup": {
            "backbone": "all-MiniLM-L6-v2",
            "protocol": "transductive: target reviews are the unlabelled pool and the test set",
            "adapt": ADAPT,
        },
        "rows": [],
    }


def summary(rows: list[dict[str, Any]], seed: int | None = 0) -> str:
    """Per task: accuracy of each method (of ``seed``; None: the mean over seeds), the accuracy
    of the method the IM validator picks and the oracle's. Averages over each column's tasks,
    and, when some tasks lack methods, over the tasks every method ran, the only fair
    comparison of columns."""
    acc: dict[str, dict[str, list[float]]] = {}
    im: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        if seed is not None and r["seed"] != seed:
            continue
        table = acc if r["metric"] == "accuracy" else im if r["metric"] == "im" else None
        if table is not None:
            table.setdefault(r["task"], {}).setdefault(r["method"], []).append(r["value"])
    methods = [m for m in METHODS if any(m in v for v in acc.values())]
    names = [*methods, "IM-chosen", "oracle"]
    lines = ["| task | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    table_rows: dict[str, list[float]] = {}
    for task in sorted(acc):
        means = {m: float(np.mean(v)) for m, v in acc[task].items()}
        scores = {m: float(np.mean(v)) for m, v in im.get(task, {}).items() if m in means}
        chosen = means[max(scores, key=lambda m: scores[m])] if scores else float("nan")
        row = [means.get(m, float("nan")) for m in methods] + [chosen, max(means.values())]
        table_rows[task] = row
        lines.append(f"| {task.split(':')[1]} | " + " | ".join(_cell(v) for v in row) + " |")
    grid = np.array(list(table_rows.values()))
    counts = (~np.isnan(grid)).sum(axis=0)
    avg = [f"{np.nanmean(c):.2f} ({n})" if n else "–" for c, n in zip(grid.T, counts, strict=True)]
    lines.append("| **average** (tasks) | " + " | ".join(avg) + " |")
    complete = grid[~np.isnan(grid).any(axis=1)]
    if 0 < len(complete) < len(grid):
        fair = " | ".join(f"{v:.2f}" for v in complete.mean(axis=0))
        lines.append(f"| **average, the {len(complete)} tasks with every method** | {fair} |")
    return "\n".join(lines)


def seed_spread(rows: list[dict[str, Any]], methods: tuple[str, ...] = ("full", "mmd")) -> str:
    """Per task, each method's accuracy over its seeds (values, mean ± std) and the last
    method's gain over the first, paired by seed; then, for each method with every task on a
    seed, the 12-task average of each such seed and their mean ± std: the spread a difference
    between methods must exceed."""
    acc: dict[tuple[str, str], dict[int, float]] = {}
    for r in rows:
        if r["metric"] == "accuracy" and r["method"] in methods:
            acc.setdefault((r["task"], r["method"]), {})[r["seed"]] = r["value"]
    tasks = sorted({task for task, _ in acc})
    first, last = methods[0], methods[-1]
    header = [*methods, f"{last} − {first} (paired)"]
    lines = ["| task | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for task in tasks:
        cells = [_spread(acc.get((task, m), {})) for m in methods]
        cells.append(_gain(acc.get((task, first), {}), acc.get((task, last), {})))
        lines.append(f"| {task.split(':')[1]} | " + " | ".join(cells) + " |")

    def seeds_on_every_task(m: str) -> set[int]:
        return set.intersection(*(set(acc.get((t, m), {})) for t in tasks)) if tasks else set()

    per_method = {m: _seed_means(acc, tasks, m, seeds_on_every_task(m)) for m in methods}
    averages = [_spread(per_method[m]) for m in methods]
    averages.append(_gain(per_method[first], per_method[last]))
    lines.append(f"| **average of the {len(tasks)} tasks** | " + " | ".join(averages) + " |")
    # where the last method lacks seeds on some tasks: the tasks that have every seed of both
    seeds = set().union(*(set(acc.get((t, first), {})) for t in tasks)) if tasks else set()
    full = [t for t in tasks if all(set(acc.get((t, m), {})) >= seeds for m in (first, last))]
    if seeds and 0 < len(full) < len(tasks):
        sub = {m: _seed_means(acc, full, m, seeds) for m in methods}
        cells = [_spread(sub[m]) for m in methods] + [_gain(sub[first], sub[last])]
        lines.append(
            f"| **average of the {len(full)} tasks with seeds {', '.join(map(str, sorted(seeds)))}"
            " of both** | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _seed_means(
    acc: dict[tuple[str, str], dict[int, float]], tasks: list[str], method: str, seeds: set[int]
) -> dict[int, float]:
    """Per seed, ``method``'s accuracy averaged over ``tasks`` (each must have that seed)."""
    return {s: float(np.mean([acc[(t, method)][s] for t in tasks])) for s in sorted(seeds)}


def _gain(base: dict[int, float], other: dict[int, float]) -> str:
    """``other − base`` over the seeds both have: mean ± std and how many seeds it is positive."""
    seeds = sorted(set(base) & set(other))
    if not seeds:
        return "–"
    diffs = np.array([other[s] - base[s] for s in seeds])
    if len(diffs) == 1:
        return f"{diffs[0]:+.2f} (1 seed)"
    wins = int((diffs > 0).sum())
    return f"{diffs.mean():+.2f} ± {diffs.std(ddof=1):.2f} ({wins}/{len(diffs)} seeds up)"


def _spread(by_seed: dict[int, float]) -> str:
    if not by_seed:
        return "–"
    values = [by_seed[s] for s in sorted(by_seed)]
    shown = " / ".join(f"{v:.2f}" for v in values)
    if len(values) == 1:
        return shown
    return f"{shown} = **{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}**"


def _cell(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
