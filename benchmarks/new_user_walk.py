"""The new user's first hour (issue 23), replayed on real text through the command line only.

Headerless ``sentence<TAB>0/1`` ``.txt`` files like the UCI "Sentiment Labelled Sentences" are
built from the Amazon reviews (Blitzer et al.) under DOMAINFIT_DATA: the first sentence of each
review, kitchen as the labelled source, books as the target. Then, as a user would, with the
real all-MiniLM-L6-v2: audit -> fit (source only) -> fit with MMD (transductive) -> diagnose
-> report A B -> predict on new, unlabelled sentences (a file and stdin) -> runs.

Each step records its exit code, wall time and the seconds until its first line on stderr
(progress must show within seconds, in a pipe too). Also checked: no split_leakage finding
under the transductive protocol, no "[...]" eaten from the output, predictions keep the
input's text with the real class names.

Run:   .venv/bin/python benchmarks/new_user_walk.py [--sentences 1000] [--epochs 1]
Writes benchmarks/results/new_user_walk.json (format: ../shared/docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "results" / "new_user_walk.json"
CLI = str(Path(sys.executable).with_name("domainfit"))
FIRST_SENTENCE = re.compile(r"^(.{20,200}?[.!?])(\s|$)")


def sentences(domain: str, n: int, seed: int) -> list[tuple[str, int]]:
    """First sentences of ``n`` reviews (balanced, shuffled), one line each, no tabs."""
    import numpy as np

    from domainfit import load_data

    ds = load_data(f"amazon-reviews:{domain}")
    rng = np.random.default_rng(seed)
    rows: dict[int, list[tuple[str, int]]] = {0: [], 1: []}
    for i in rng.permutation(len(ds)):
        text = " ".join(str(ds.inputs[i]).split())
        m = FIRST_SENTENCE.match(text)
        label = int(ds.labels[i])  # class codes: ds.meta["class_names"] == [negative, positive]
        if m and len(rows[label]) < n // 2:
            rows[label].append((m.group(1), label))
    both = rows[0] + rows[1]
    return [both[i] for i in rng.permutation(len(both))]


def write_txt(path: Path, rows: list[tuple[str, int]]) -> None:
    path.write_text("".join(f"{s}\t{y}\n" for s, y in rows), encoding="utf-8")


def step(name: str, argv: list[str], stdin: str | None = None) -> dict[str, Any]:
    """Run one command as a user would, in a pipe; time it and its first stderr line."""
    print(f"$ domainfit {' '.join(argv)}", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [CLI, *argv],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first: list[float] = []
    err_lines: list[str] = []
    out_parts: list[str] = []

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if not first:
                first.append(time.perf_counter() - start)
            err_lines.append(line.rstrip("\n"))
            print("   " + line.rstrip("\n"), flush=True)

    def read_out() -> None:
        assert proc.stdout is not None
        out_parts.append(proc.stdout.read())

    # one reader per stream (communicate() would read stderr too and steal its lines)
    readers = [threading.Thread(target=read_err), threading.Thread(target=read_out)]
    for r in readers:
        r.start()
    if proc.stdin is not None:
        proc.stdin.write(stdin or "")
        proc.stdin.close()
    proc.wait()
    for r in readers:
        r.join()
    out = "".join(out_parts)
    seconds = time.perf_counter() - start
    print(out, flush=True)
    return {
        "step": name,
        "command": "domainfit " + " ".join(argv),
        "exit_code": proc.returncode,
        "seconds": round(seconds, 1),
        "first_stderr_line_s": round(first[0], 1) if first else None,
        "stderr_lines": len(err_lines),
        "stdout": out,
        "stderr_tail": err_lines[-5:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--root", type=Path, default=Path("runs/walk"))
    args = parser.parse_args()
    from domainfit.io_utils import write_json_atomic

    shutil.rmtree(args.root, ignore_errors=True)
    args.root.mkdir(parents=True)
    root = args.root.resolve()
    write_txt(root / "kitchen.txt", sentences("kitchen", args.sentences, 0))
    write_txt(root / "books.txt", sentences("books", args.sentences, 1))
    new = sentences("dvd", 40, 2)
    (root / "new.txt").write_text("".join(s + "\n" for s, _ in new), encoding="utf-8")
    config = root / "walk.yaml"
    config.write_text(
        f"""name: walk
data:
  source: {{spec: {root / "kitchen.txt"}, text: 0, label: 1}}
  target: {{spec: {root / "books.txt"}, text: 0, label: 1}}
model: {{backbone: minilm, max_length: 64}}
strategy: {{name: full}}
train: {{epochs: {args.epochs}, batch_size: 16, lr: 5.0e-5, warmup_ratio: 0.1}}
track: {{uri: sqlite:///{root / "mlflow.db"}}}
""",
        encoding="utf-8",
    )
    src, mmd = root / "source_only", root / "mmd"
    mmd_sets = ["--set", "adapt.method=mmd", "--set", "adapt.protocol=transductive"]
    steps = [
        step("audit", ["audit", str(config)]),
        step("fit source only", ["fit", str(config), "--out", str(src)]),
        step("fit mmd", ["fit", str(config), *mmd_sets, "--out", str(mmd)]),
        step("diagnose", ["diagnose", "--run", str(mmd), "--json", str(root / "diagnose.json")]),
        step("report", ["report", str(mmd), str(src), "--out", str(root / "compare.html")]),
        step(
            "predict file",
            ["predict", str(mmd), str(root / "new.txt"), "--out", str(root / "new.csv")],
        ),
        step(
            "predict stdin",
            ["predict", str(mmd), "-", "--out", str(root / "stdin.csv")],
            stdin="I love this blender.\nIt broke after one week [sadly].\n",
        ),
        step("runs", ["runs", "--uri", f"sqlite:///{root / 'mlflow.db'}"]),
    ]
    metrics = {
        name: json.loads((root / name / "metrics.json").read_text())
        for name in ("source_only", "mmd")
    }
    findings = json.loads((root / "diagnose.json").read_text())["findings"]
    # the transductive pool is the target's test set by design; repeats inside the source
    # (a sentence such as "Great product!" twice) are still worth a low finding
    target_leaks = [
        f for f in findings if f["code"] == "split_leakage" and f.get("domain") == "books"
    ]
    preds = (root / "stdin.csv").read_text(encoding="utf-8") if steps[6]["exit_code"] == 0 else ""
    checks = {
        "every step exit 0": all(s["exit_code"] == 0 for s in steps),
        "no target split_leakage under transductive": not target_leaks,
        "predict keeps the text and class names": "[sadly]" in preds and "p:1" in preds,
        "fit shows progress within 30 s": all(
            (s["first_stderr_line_s"] or 1e9) < 30 for s in steps[1:3]
        ),
    }
    load = os.getloadavg()[0]
    machine = f"{os.cpu_count()}-core CPU ({platform.machine()})"
    rows = [
        {
            "task": f"kitchen -> books sentences ({args.sentences} each), {s['step']}",
            "method": "minilm",
            "seed": 0,
            "metric": "seconds",
            "value": s["seconds"],
            "first_stderr_line_s": s["first_stderr_line_s"],
            "exit_code": s["exit_code"],
            "device": machine,
            "load_average_at_start": round(load, 2),
        }
        for s in steps
    ]
    for name, m in metrics.items():
        rows.append(
            {
                "task": f"kitchen -> books sentences ({args.sentences} each)",
                "method": f"minilm full, {name}",
                "seed": 0,
                "metric": "target.test.accuracy",
                "value": round(100 * m["target.test.accuracy"], 2),
                "device": machine,
            }
        )
    write_json_atomic(
        OUT,
        {
            "benchmark": "new_user_walk",
            "command": "python " + " ".join(["benchmarks/new_user_walk.py", *sys.argv[1:]]),
            "date": dt.date.today().isoformat(),
            "machine": machine,
            "checks": checks,
            "rows": rows,
            "steps": [{k: v for k, v in s.items() if k != "stdout"} for s in steps],
        },
    )
    print(json.dumps(checks, indent=1))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
