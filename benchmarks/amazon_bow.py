"""Amazon reviews, 5000-d DANN features: source-only baselines, DANN through domainfit, and mSDA
(with and without self-training), on the 12 ordered domain pairs of Ganin et al. (JMLR 2016).

Protocol (the DANN paper's): source = the source domain's 2000 labelled training reviews; target
= the target domain's 2000 training reviews, unlabelled; test = the target's held-out test file.
Features are binarised (x > 0) for every method.

Every hyperparameter is chosen without target labels, by source cross-validation or by a
label-free validator on the unlabelled target pool; next to it each row group records what an
oracle that reads the target test labels would have picked from the same candidates (metric
``accuracy_oracle``). Methods:

- ``lr_source``: logistic regression on the source, C by 5-fold source cross-validation.
- ``mlp_source``: ``domainfit.fit`` with ``mlp:100`` (one hidden layer of 100 units), learning
  rate by source validation accuracy (10% of the source held out). One model per source domain
  and seed, evaluated on its three target test sets.
- ``dann``: the same network and learning rate with ``adapt.method: dann``; the adaptation
  weight by the IM validator on the target pool (``accuracy``; SND's pick: ``accuracy_snd``).
- ``mlp_selftrain``: the same network with ``adapt.self_training`` (fixed settings, no choice).
- ``msda_lr``: mSDA (``domainfit.adapt.msda``) learnt on the union of the source and target
  training inputs, features [x, h_1, ..., h_l]; logistic regression on the source, with noise,
  l and C chosen by 5-fold source cross-validation.
- ``msda_selftrain``: ``msda_lr``'s choice, then rounds of class-balanced self-training on the
  target pool (fixed schedule); the oracle may stop at any round.

Deterministic methods (``lr_source``, ``msda_*``) run once (seed 0); the others per seed.

Run:   .venv/bin/python benchmarks/amazon_bow.py [--quick] [--tasks B->D,D->B] [--seeds 0,1,2]
Quick: B->D and D->B (one mSDA pair), seed 0.
Writes benchmarks/results/amazon_bow[_quick].json (format: ../shared/docs/BENCHMARKS.md) after
every finished unit of work; rows already there are kept and skipped, so an interrupted run
resumes. One process; the binarised feature files and temporary run folders live under
runs/bench/amazon_bow/ (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from domainfit.io_utils import write_json_atomic

DOMAINS = {"B": "books", "D": "dvd", "E": "electronics", "K": "kitchen"}
TASKS = [f"{s}->{t}" for s in DOMAINS for t in DOMAINS if s != t]
QUICK_TASKS = ["B->D", "D->B"]
WORK = Path("runs/bench/amazon_bow")
RESULTS = Path(__file__).parent / "results"
METHODS = ("lr_source", "mlp_source", "dann", "mlp_selftrain", "msda_lr", "msda_selftrain")
DETERMINISTIC = ("lr_source", "msda_lr", "msda_selftrain")

# Candidates. Logistic regression's C in half decades: on the binary input, and on mSDA
# features, whose squared norms are ~70x larger (tanh outputs are dense); MLP: AdamW rates.
C_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0)
MSDA_C_GRID = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)
LR_GRID = (3e-4, 1e-3, 3e-3)
DANN_WEIGHTS = (0.1, 0.3, 1.0)
CV_FOLDS = 5
# mSDA: corruption levels tried and the deepest stack; every depth 1..MSDA_LAYERS is a candidate
# (the stacks are nested). Three layers, not the DANN paper's five, keep a pair under ~4 min.
MSDA_NOISES = (0.5, 0.8)
MSDA_LAYERS = 3
# Self-training on mSDA: class-balanced share of the pool pseudo-labelled per round.
ST_FRACTIONS = (0.2, 0.4, 0.6, 0.8)

MLP_TRAIN = {
    "epochs": 5,
    "batch_size": 64,
    "optimizer": "adamw",
    "weight_decay": 0.01,
    "schedule": "constant",
}
SELF_TRAINING = {"enabled": True, "threshold": 0.9, "fraction": 0.3, "max_fraction": 0.8}


# ---------------------------------------------------------------- data


@dataclass
class Domain:
    x: sp.csr_matrix  # (2000, 5000) binary training reviews
    y: np.ndarray
    x_test: sp.csr_matrix
    y_test: np.ndarray
    train_file: Path  # the same arrays as .npz for domainfit
    test_file: Path


def load_domains(names: set[str]) -> dict[str, Domain]:
    """Binarised training and test sets; .npz copies under WORK/data for domainfit."""
    import domainfit

    out: dict[str, Domain] = {}
    folder = WORK / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for name in sorted(names):
        parts = []
        for part, suffix in (("train", ""), ("test", "/test")):
            ds = domainfit.load_data(f"amazon-reviews-bow:{name}{suffix}")
            x = sp.csr_matrix(ds.inputs, dtype=np.float64)
            x.data[:] = 1.0
            x.eliminate_zeros()
            y = np.asarray(ds.labels, dtype=np.int64)
            path = folder / f"{name}_{part}.npz"
            if not path.is_file():
                tmp = path.with_name(path.stem + ".tmp.npz")
                np.savez(tmp, X=x.toarray().astype(np.uint8), y=y)
                tmp.replace(path)
            parts.append((x, y, path))
        (x, y, ftrain), (xt, yt, ftest) = parts
        out[name] = Domain(x, y, xt, yt, ftrain, ftest)
    return out


def split_task(task: str) -> tuple[str, str]:
    s, t = task.split("->")
    return DOMAINS[s], DOMAINS[t]


@contextmanager
def blas_threads(n: int) -> Iterator[None]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n):
        yield


# ---------------------------------------------------------------- logistic regression


def cv_folds(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0)
    return list(folds.split(np.zeros(len(y)), y))


def logreg(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=1000)


def cv_accuracy(
    z: Any, y: np.ndarray, c: float, folds: list[tuple[np.ndarray, np.ndarray]]
) -> float:
    hits = 0
    for train, val in folds:
        hits += int((logreg(c).fit(z[train], y[train]).predict(z[val]) == y[val]).sum())
    return hits / len(y)


def run_lr_source(task: str, data: dict[str, Domain]) -> dict[str, Any]:
    """C by source cross-validation; the oracle's C by target test accuracy."""
    s, t = split_task(task)
    src, tgt = data[s], data[t]
    folds = cv_folds(src.y)
    grid = []
    with blas_threads(1):
        for c in C_GRID:
            cv = cv_accuracy(src.x, src.y, c, folds)
            test = float((logreg(c).fit(src.x, src.y).predict(tgt.x_test) == tgt.y_test).mean())
            grid.append({"C": c, "source_cv": cv, "test": test})
    chosen = max(grid, key=lambda g: g["source_cv"])
    oracle = max(grid, key=lambda g: g["test"])
    return {
        "accuracy": chosen["test"],
        "accuracy_oracle": oracle["test"],
        "selected": {"C": chosen["C"]},
        "oracle": {"C": oracle["C"]},
        "grid": grid,
    }


# ---------------------------------------------------------------- domainfit (MLP, DANN)


def _silence_reports() -> None:
    """report.html is not needed here and its matplotlib plots take ~3 s of each ~8 s run; the
    run is complete without it (``domainfit report RUN`` writes it later)."""
    fit_module = importlib.import_module("domainfit.fit")
    fit_module.write_report = lambda *a, **k: None


def mlp_config(
    src: Domain, tgt: Domain | None, seed: int, lr: float, adapt: dict[str, Any] | None
) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "name": "bench-amazon-bow",
        "seed": seed,
        "data": {"source": str(src.train_file)},
        # 10% of the source for validation (the learning rate's choice), none for testing
        "split": {"method": "stratified", "train": 0.9, "val": 0.1, "test": 0.0, "seed": seed},
        "preprocess": {"scaler": "none", "impute": "none"},
        "model": {"backbone": "mlp:100", "head": {"dropout": 0.1}},
        "train": {**MLP_TRAIN, "lr": lr},
        "track": {"enabled": False},
    }
    if tgt is not None:
        cfg["data"]["target"] = str(tgt.train_file)
        # transductive: the target's whole training file is the unlabelled pool (its labels are
        # never read for training); the held-out test file is evaluated separately
        cfg["adapt"] = {"protocol": "transductive", "select": "last", **(adapt or {})}
    return cfg


def fit_and_test(cfg: dict[str, Any], tests: dict[str, Path]) -> dict[str, Any]:
    """Train one run; its source validation and label-free scores, accuracy on each test file."""
    import domainfit
    from domainfit.progress import silenced

    start = time.perf_counter()
    tmp_root = WORK / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp, silenced():
        run = domainfit.fit(cfg, out=Path(tmp) / "run")
        accs = {}
        for name, path in tests.items():
            ev = domainfit.evaluate(run.dir, data=str(path))
            accs[name] = float(ev[path.name]["metrics"]["accuracy"])
    m = run.metrics
    return {
        "val_accuracy": float(m["source.val.accuracy"]),
        "val_loss": float(m["source.val.loss"]),
        "im": float(m.get("target.pool.im", np.nan)),
        "snd": float(m.get("target.pool.snd", np.nan)),
        "test": accs,
        "seconds": time.perf_counter() - start,
    }


def run_mlp_source(source: str, targets: list[str], seed: int, data: dict[str, Domain]) -> dict:
    """One model per learning rate; the rate with the best source validation accuracy (ties:
    lower validation loss) is the label-free choice; per target, the oracle's best rate."""
    tests = {t: data[t].test_file for t in targets}
    grid = []
    for lr in LR_GRID:
        res = fit_and_test(mlp_config(data[source], None, seed, lr, None), tests)
        grid.append({"lr": lr, **res})
    chosen = max(grid, key=lambda g: (g["val_accuracy"], -g["val_loss"]))
    seconds = sum(g["seconds"] for g in grid)
    out = {}
    for t in targets:
        oracle = max(grid, key=lambda g: g["test"][t])
        out[t] = {
            "accuracy": chosen["test"][t],
            "accuracy_oracle": oracle["test"][t],
            "selected": {"lr": chosen["lr"]},
            "oracle": {"lr": oracle["lr"]},
            "grid": [
                {"lr": g["lr"], "source_val": g["val_accuracy"], "test": g["test"][t]} for g in grid
            ],
            "seconds": seconds,
        }
    return out


def run_adapt(
    task: str,
    method: str,
    seed: int,
    lr: float,
    data: dict[str, Domain],
    weights: tuple[float, ...] = DANN_WEIGHTS,
) -> dict[str, Any]:
    """One run per adaptation weight; the weight by IM (SND's pick recorded), the oracle's by
    test accuracy. DANN gets the paper's shallow domain classifier (100 hidden units)."""
    s, t = split_task(task)
    grid = []
    for weight in weights:
        adapt: dict[str, Any] = {"method": method, "weight": weight}
        if method == "dann":
            adapt["options"] = {"hidden": 100}  # Ganin's ramp is the default schedule
        cfg = mlp_config(data[s], data[t], seed, lr, adapt)
        res = fit_and_test(cfg, {t: data[t].test_file})
        grid.append({"weight": weight, **res, "test": res["test"][t]})
    by_im = max(grid, key=lambda g: g["im"])
    by_snd = max(grid, key=lambda g: g["snd"])
    oracle = max(grid, key=lambda g: g["test"])
    return {
        "accuracy": by_im["test"],
        "accuracy_snd": by_snd["test"],
        "accuracy_oracle": oracle["test"],
        "selected": {"lr": lr, "weight": by_im["weight"], "weight_by_snd": by_snd["weight"]},
        "oracle": {"lr": lr, "weight": oracle["weight"]},
        "grid": [{k: g[k] for k in ("weight", "im", "snd", "val_accuracy", "test")} for g in grid],
        "seconds": sum(g["seconds"] for g in grid),
    }


def run_mlp_selftrain(task: str, seed: int, lr: float, data: dict[str, Domain]) -> dict:
    s, t = split_task(task)
    cfg = mlp_config(data[s], data[t], seed, lr, {"self_training": SELF_TRAINING})
    res = fit_and_test(cfg, {t: data[t].test_file})
    return {
        "accuracy": res["test"][t],
        "selected": {"lr": lr, **SELF_TRAINING},
        "seconds": res["seconds"],
    }


# ---------------------------------------------------------------- mSDA


def gram(f: np.ndarray) -> np.ndarray:
    """F F^T in float64 (float32 products would round by more than the jitter below)."""
    f64 = f.astype(np.float64)
    return np.asarray(f64 @ f64.T)


def chol_features(k: np.ndarray) -> np.ndarray:
    """Z with Z Z^T = K + eps I (eps = 1e-6 mean diag K, for duplicate reviews): a linear model
    with an L2 penalty on Z's rows is the same model as on the features behind K (representer
    theorem), so logistic regression on 30000-d features runs on an n-dimensional Z."""
    eps = 1e-6 * float(np.trace(k)) / len(k)
    return np.asarray(scipy.linalg.cholesky(k + eps * np.eye(len(k)), lower=True))


def primal_weights(z: np.ndarray, clf: Any) -> np.ndarray:
    """alpha (n,) with w = sum_i alpha_i f_i: the model fitted on Z rows, on the features."""
    w_z = clf.coef_.ravel()
    return np.asarray(scipy.linalg.solve_triangular(z.T, w_z, lower=False))


def msda_pair(a: str, b: str, data: dict[str, Domain], threads: int) -> dict[str, Any]:
    """Both directions of one domain pair: mSDA is learnt once on the union of the two
    training sets (unlabelled), at every noise level of MSDA_NOISES."""
    from domainfit.adapt.msda import MSDA
    from domainfit.adapt.self_training import UNLABELLED, select_pseudo_labels

    n = data[a].x.shape[0]
    union = sp.vstack([data[a].x, data[b].x]).tocsr()
    rows = {a: np.arange(n), b: np.arange(n, 2 * n)}
    results: dict[str, dict[str, Any]] = {f"{a}->{b}": {}, f"{b}->{a}": {}}
    cands: dict[str, list[dict[str, Any]]] = {key: [] for key in results}
    timings: dict[str, float] = {}
    for noise in MSDA_NOISES:
        t0 = time.perf_counter()
        msda = MSDA(noise=noise, layers=MSDA_LAYERS)
        with blas_threads(threads):
            blocks = [union.toarray().astype(np.float32), *msda.fit_layer_outputs(union)]
            grams = [gram(f) for f in blocks]
        timings[f"msda_fit_{noise}"] = time.perf_counter() - t0
        for s, t in ((a, b), (b, a)):
            t1 = time.perf_counter()
            task = f"{s}->{t}"
            src, pool = rows[s], rows[t]
            y = data[s].y
            folds = cv_folds(y)
            # candidates (noise, l, C): source CV, and alpha over the source rows
            alphas, metas = [], []
            with blas_threads(1):
                for depth in range(1, MSDA_LAYERS + 1):
                    k = sum(g[np.ix_(src, src)] for g in grams[: depth + 1])
                    z = chol_features(k)
                    for c in MSDA_C_GRID:
                        cv = cv_accuracy(z, y, c, folds)
                        clf = logreg(c).fit(z, y)
                        alphas.append(primal_weights(z, clf))
                        metas.append(
                            {
                                "noise": noise,
                                "layers": depth,
                                "C": c,
                                "source_cv": cv,
                                "intercept": float(clf.intercept_[0]),
                            }
                        )
            chosen_i = int(np.argmax([m["source_cv"] for m in metas]))
            # self-training from the chosen candidate, over the union's rows (source + pool)
            ch = metas[chosen_i]
            both = np.concatenate([src, pool])
            with blas_threads(1):
                k_u = sum(g[np.ix_(both, both)] for g in grams[: ch["layers"] + 1])
                z_u = chol_features(k_u)
                clf = logreg(ch["C"]).fit(z_u[: len(src)], y)
                st_alphas = []
                for fraction in ST_FRACTIONS:
                    probs = clf.predict_proba(z_u[len(src) :])
                    pseudo = select_pseudo_labels(probs, 0.5, fraction, class_balanced=True)
                    keep = np.flatnonzero(pseudo != UNLABELLED)
                    zz = np.vstack([z_u[: len(src)], z_u[len(src) :][keep]])
                    yy = np.concatenate([y, clf.classes_[pseudo[keep]]])
                    clf = logreg(ch["C"]).fit(zz, yy)
                    st_alphas.append((primal_weights(z_u, clf), float(clf.intercept_[0])))
            # decision values on the target test set: sum over blocks of f_b(x) . v_b
            t2 = time.perf_counter()
            test = test_decisions(
                msda, blocks, src, both, alphas, metas, st_alphas, ch["layers"], data[t], threads
            )
            y_test = data[t].y_test
            for i, meta in enumerate(metas):
                cands[task].append(
                    {**meta, "test": float(((test["lr"][:, i] > 0) == y_test).mean())}
                )
            st_acc = [
                float(((test["st"][:, r] > 0) == y_test).mean()) for r in range(len(ST_FRACTIONS))
            ]
            results[task][f"selftrain_{noise}"] = {"chosen": ch, "rounds": st_acc}
            timings[f"{task}_{noise}"] = time.perf_counter() - t1
            timings[f"{task}_{noise}_test"] = time.perf_counter() - t2
        del blocks, grams
    out: dict[str, Any] = {}
    for task in results:
        grid = cands[task]
        chosen = max(grid, key=lambda g: g["source_cv"])
        oracle = max(grid, key=lambda g: g["test"])
        st = results[task][f"selftrain_{chosen['noise']}"]
        fit_secs = sum(v for k, v in timings.items() if k.startswith("msda_fit"))
        task_secs = sum(v for k, v in timings.items() if k.startswith(task) and "test" not in k)
        keys = ("noise", "layers", "C")
        out[task] = {
            "msda_lr": {
                "accuracy": chosen["test"],
                "accuracy_oracle": oracle["test"],
                "selected": {k: chosen[k] for k in keys},
                "oracle": {k: oracle[k] for k in keys},
                "grid": [{k: g[k] for k in (*keys, "source_cv", "test")} for g in grid],
                "seconds": fit_secs + task_secs,
            },
            "msda_selftrain": {
                "accuracy": st["rounds"][-1],
                "accuracy_oracle": max(st["rounds"]),
                "selected": {**{k: chosen[k] for k in keys}, "rounds": len(ST_FRACTIONS)},
                "oracle": {"rounds": 1 + int(np.argmax(st["rounds"]))},
                "grid": [
                    {"round": r + 1, "fraction": f, "test": acc}
                    for r, (f, acc) in enumerate(zip(ST_FRACTIONS, st["rounds"], strict=True))
                ],
                "seconds": fit_secs + task_secs,
            },
            "timings": timings,
        }
    return out


def test_decisions(
    msda: Any,
    blocks: list[np.ndarray],
    src: np.ndarray,
    both: np.ndarray,
    alphas: list[np.ndarray],
    metas: list[dict[str, Any]],
    st_alphas: list[tuple[np.ndarray, float]],
    st_layers: int,
    tgt: Domain,
    threads: int,
    chunk: int = 1500,
) -> dict[str, np.ndarray]:
    """Decision values of every candidate (columns) on the target test set: per block b the
    primal weights v_b = F_b[rows]^T alpha, then sum_{b <= l} f_b(x) . v_b + intercept. The test
    features pass through the layers in chunks and are never stored whole."""
    depth = np.array([m["layers"] for m in metas])
    a_lr = np.stack(alphas, axis=1)  # (n_src, candidates)
    a_st = np.stack([a for a, _ in st_alphas], axis=1)  # (n_src + n_pool, rounds)
    v_lr = [blocks[b][src].T @ a_lr.astype(np.float32) for b in range(len(blocks))]
    v_st = [blocks[b][both].T @ a_st.astype(np.float32) for b in range(st_layers + 1)]
    n = tgt.x_test.shape[0]
    lr_out = np.tile(np.array([m["intercept"] for m in metas]), (n, 1))
    st_out = np.tile(np.array([b for _, b in st_alphas]), (n, 1))
    with blas_threads(threads):
        for start in range(0, n, chunk):
            x = tgt.x_test[start : start + chunk]
            feats = [x.toarray().astype(np.float32), *msda.layer_outputs(x)]
            for b, f in enumerate(feats):
                lr_out[start : start + chunk] += (f @ v_lr[b]) * (depth >= b)
                if b <= st_layers:
                    st_out[start : start + chunk] += f @ v_st[b]
    return {"lr": lr_out, "st": st_out}


# ---------------------------------------------------------------- bookkeeping


def rows_for(task: str, method: str, seed: int, res: dict[str, Any], seconds: float) -> list[dict]:
    extra = {k: res[k] for k in ("selected", "oracle", "grid") if k in res}
    out = []
    for metric in ("accuracy", "accuracy_snd", "accuracy_oracle"):
        if metric in res:
            out.append(
                {
                    "task": task,
                    "method": method,
                    "seed": seed,
                    "metric": metric,
                    "value": round(100 * res[metric], 2),
                    "seconds": round(seconds, 1),
                    **extra,
                }
            )
    return out


def append_rows(out: Path, doc: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    doc["rows"].extend(rows)
    doc["date"] = dt.date.today().isoformat()
    write_json_atomic(out, doc)


def load_doc(out: Path, quick: bool) -> dict[str, Any]:
    if out.is_file():
        doc: dict[str, Any] = json.loads(out.read_text())
        return doc
    return {
        "benchmark": "amazon_bow" + ("_quick" if quick else ""),
        "command": "python benchmarks/amazon_bow.py" + (" --quick" if quick else ""),
        "date": dt.date.today().isoformat(),
        "machine": "2-core CPU",
        "setup": {
            "protocol": "source: 2000 labelled training reviews; target: the other domain's 2000 "
            "training reviews, unlabelled; test: the target's test file; binarised 5000-d "
            "features (amazon-reviews-bow)",
            "selection": "accuracy: chosen without target labels (source CV / source "
            "validation / IM on the target pool); accuracy_snd: DANN weight by SND; "
            "accuracy_oracle: best candidate by target test accuracy",
            "C_grid": C_GRID,
            "msda_C_grid": MSDA_C_GRID,
            "lr_grid": LR_GRID,
            "dann_weights": DANN_WEIGHTS,
            "mlp": {"backbone": "mlp:100", "train": MLP_TRAIN, "val": 0.1},
            "self_training": SELF_TRAINING,
            "msda": {"noises": MSDA_NOISES, "layers": list(range(1, MSDA_LAYERS + 1))},
            "msda_selftrain_fractions": ST_FRACTIONS,
            "seconds": "wall time of the work behind a row; mlp_source's fits are shared by "
            "the three tasks of a source, mSDA's by the two tasks of a pair (counted in each)",
        },
        "rows": [],
    }


def summary(rows: list[dict[str, Any]]) -> str:
    """Markdown table: per task and method, the label-free and the oracle accuracy (mean over
    seeds), with the published DANN number, and the averages."""
    published = load_published()
    cells: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        cells.setdefault((r["task"], r["method"], r["metric"]), []).append(r["value"])
    methods = [m for m in METHODS if any(k[1] == m for k in cells)]
    tasks = [t for t in TASKS if any(k[0] == t for k in cells)]
    has_oracle = {m: any(k[1] == m and k[2] == "accuracy_oracle" for k in cells) for m in methods}
    names = [f"{m} (oracle)" if has_oracle[m] else m for m in methods]
    head = "| task | DANN (paper) | " + " | ".join(names) + " |"
    lines = [head, "|---|---:|" + "---:|" * len(methods)]
    cols: dict[str, list[float]] = {}
    for task in tasks:
        line = f"| {task} | {published.get(task, float('nan')):.1f} |"
        for m in methods:
            acc = cells.get((task, m, "accuracy"), [])
            orc = cells.get((task, m, "accuracy_oracle"), [])
            a = float(np.mean(acc)) if acc else np.nan
            o = float(np.mean(orc)) if orc else np.nan
            cols.setdefault(m, []).append(a)
            cols.setdefault(m + "/oracle", []).append(o)
            line += f" {a:.2f} ({o:.2f}) |" if orc else f" {a:.2f} |"
        lines.append(line)
    avg = f"| **average** | {np.mean([published.get(t, np.nan) for t in tasks]):.1f} |"
    for m in methods:
        a, o = np.mean(cols[m]), np.mean(cols[m + "/oracle"])
        avg += f" **{a:.2f}** ({o:.2f}) |" if np.isfinite(o) else f" **{a:.2f}** |"
    lines.append(avg)
    return "\n".join(lines)


def load_published() -> dict[str, float]:
    """DANN on the 5000-d features, Ganin et al. JMLR 2016 (PUBLISHED_RESULTS.md section 6)."""
    return {
        "B->D": 78.4, "B->E": 73.3, "B->K": 77.9, "D->B": 72.3, "D->E": 75.4, "D->K": 78.3,
        "E->B": 71.3, "E->D": 73.8, "E->K": 85.4, "K->B": 70.9, "K->D": 74.0, "K->E": 84.3,
    }  # fmt: skip


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B->D and D->B, seed 0")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--blas-threads", type=int, default=2, help="BLAS threads for mSDA")
    args = parser.parse_args()
    tasks = QUICK_TASKS if args.quick else args.tasks.split(",")
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",")
    unknown = sorted(set(methods) - set(METHODS)) + sorted(set(tasks) - set(TASKS))
    if unknown:
        print(f"unknown methods/tasks {unknown}; known: {METHODS}, {TASKS}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    _silence_reports()
    out = RESULTS / ("amazon_bow_quick.json" if args.quick else "amazon_bow.json")
    doc = load_doc(out, args.quick)
    done = {(r["task"], r["method"], r["seed"]) for r in doc["rows"]}

    def missing(task: str, method: str, seed: int) -> bool:
        return method in methods and (task, method, seed) not in done

    def record(task: str, method: str, seed: int, res: dict[str, Any]) -> None:
        new = rows_for(task, method, seed, res, res.get("seconds", 0.0))
        append_rows(out, doc, new)
        done.add((task, method, seed))
        sel = res.get("selected", {})
        orc = (
            f", oracle {100 * res['accuracy_oracle']:.2f} {res.get('oracle')}"
            if ("accuracy_oracle" in res)
            else ""
        )
        print(
            f"{task} {method} seed {seed}: {100 * res['accuracy']:.2f} {sel}{orc} "
            f"({res.get('seconds', 0.0):.0f} s)",
            flush=True,
        )

    start = time.perf_counter()
    names = {d for task in tasks for d in split_task(task)}
    data = load_domains(names)
    print(f"data ready ({time.perf_counter() - start:.0f} s)", flush=True)

    for task in tasks:
        if missing(task, "lr_source", 0):
            t0 = time.perf_counter()
            res = run_lr_source(task, data)
            res["seconds"] = time.perf_counter() - t0
            record(task, "lr_source", 0, res)

    # mSDA: one pair at a time, both directions
    pairs: list[tuple[str, str]] = []
    for task in tasks:
        pair = tuple(sorted(task.split("->")))
        assert len(pair) == 2
        if pair not in pairs and any(
            missing(f"{x}->{y}", m, 0)
            for x, y in (pair, pair[::-1])
            for m in ("msda_lr", "msda_selftrain")
            if f"{x}->{y}" in tasks
        ):
            pairs.append((pair[0], pair[1]))
    for a, b in pairs:
        res = msda_pair(DOMAINS[a], DOMAINS[b], data, args.blas_threads)
        for task, (x, y) in ((f"{a}->{b}", (a, b)), (f"{b}->{a}", (b, a))):
            per = res[f"{DOMAINS[x]}->{DOMAINS[y]}"]
            print(f"  {task} timings: { {k: round(v) for k, v in per['timings'].items()} }")
            for m in ("msda_lr", "msda_selftrain"):
                if task in tasks and missing(task, m, 0):
                    record(task, m, 0, per[m])

    # domainfit: source-only MLP per source domain and seed, then DANN and self-training
    chosen_lr: dict[tuple[str, int], float] = {}
    for r in doc["rows"]:
        if r["method"] == "mlp_source" and r["metric"] == "accuracy":
            chosen_lr[(split_task(r["task"])[0], r["seed"])] = r["selected"]["lr"]
    needs_lr = {"mlp_source", "dann", "mlp_selftrain"}
    for seed in seeds:
        for s_short, source in DOMAINS.items():
            mine = [t for t in tasks if t.startswith(s_short + "->")]
            if not mine:
                continue
            todo = [t for t in mine if missing(t, "mlp_source", seed)]
            later = any(missing(t, m, seed) for t in mine for m in needs_lr)
            if todo or (later and (source, seed) not in chosen_lr):
                targets = [split_task(t)[1] for t in mine]
                res = run_mlp_source(source, targets, seed, data)
                chosen_lr[(source, seed)] = res[targets[0]]["selected"]["lr"]
                for task in todo:
                    record(task, "mlp_source", seed, res[split_task(task)[1]])
            for task in mine:
                lr = chosen_lr.get((source, seed))
                if lr is None:
                    continue
                if missing(task, "dann", seed):
                    record(task, "dann", seed, run_adapt(task, "dann", seed, lr, data))
                if missing(task, "mlp_selftrain", seed):
                    record(task, "mlp_selftrain", seed, run_mlp_selftrain(task, seed, lr, data))

    shutil.rmtree(WORK / "tmp", ignore_errors=True)
    print(f"wall time of this invocation: {time.perf_counter() - start:.0f} s")
    print(summary([r for r in doc["rows"] if r["task"] in tasks]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
