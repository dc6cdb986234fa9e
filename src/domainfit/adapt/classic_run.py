"""``domainfit align``: a classic feature-level method (CORAL, SA, TCA, JDA) followed by a
classifier, on a config's source and target feature data. Writes a folder, all or nothing:
``alignment.json`` (settings, accuracy with its 95% interval when the target has labels, the
label-free validator scores), ``evaluation.json`` and ``predictions/target.csv``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from domainfit.adapt.classic import CLASSIC_METHODS, CLASSIFIERS, adapt_and_classify
from domainfit.adapt.classic_align import office_caltech_preprocess
from domainfit.adapt.validators import information_maximization, snd
from domainfit.config import RunConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.pipeline import load_domains
from domainfit.errors import ConfigError, DataError
from domainfit.io_utils import staged_dir, write_json_atomic, write_text_atomic

Preprocess = Literal["each", "office", "none"]
DENSE_LIMIT = 200_000_000  # cells: a larger sparse matrix is not made dense


@dataclass
class Alignment:
    dir: Path
    summary: dict[str, Any]


def align(
    cfg: RunConfig,
    base_dir: Path | None,
    out: Path,
    *,
    method: str,
    classifier: str = "1nn",
    c: float = 1.0,
    preprocess: Preprocess = "each",
    params: dict[str, Any] | None = None,
) -> Alignment:
    if cfg.data.target is None:
        raise ConfigError("align needs data.target (the unlabelled domain)", "set data.target")
    if method not in CLASSIC_METHODS:
        raise ConfigError(
            f"unknown method '{method}'", f"choose one of {', '.join(CLASSIC_METHODS)}"
        )
    if classifier not in CLASSIFIERS:
        raise ConfigError(
            f"unknown classifier '{classifier}'", f"choose one of {', '.join(CLASSIFIERS)}"
        )
    if out.exists():
        raise ConfigError(f"output folder {out} already exists", "choose another --out")
    domains = load_domains(cfg, base_dir)
    src, tgt = domains["source"], domains["target"]
    xs, xt = (_prepared(_matrix(ds), preprocess) for ds in (src, tgt))
    if src.labels is None or src.missing_labels().any():
        raise DataError(f"the source {src.domain} needs a label for every sample", "fix labels")
    classes = sorted({str(v) for v in src.labels})
    index = {name: i for i, name in enumerate(classes)}
    ys = np.array([index[str(v)] for v in src.labels])
    start = time.perf_counter()
    try:
        result = adapt_and_classify(method, xs, ys, xt, classifier, c, **(params or {}))
    except ValueError as err:
        raise ConfigError(str(err), "check --param names and values (see --help)") from None
    seconds = time.perf_counter() - start
    pred = result.predictions.astype(int)
    probs = result.probabilities
    summary: dict[str, Any] = {
        "method": method,
        "params": params or {},
        "classifier": classifier,
        "c": c,
        "preprocess": preprocess,
        "source": src.domain,
        "target": tgt.domain,
        "n_source": len(src),
        "n_target": len(tgt),
        "seconds": round(seconds, 3),
    }
    if probs is not None:
        summary["validators"] = {"im": information_maximization(probs), "snd": snd(probs)}
    frame = pd.DataFrame({"id": tgt.ids, "prediction": [classes[i] for i in pred]})
    evaluation = _evaluate(tgt, classes, pred, probs, summary)
    if evaluation is not None:
        frame.insert(1, "label", [str(v) for v in tgt.labels])  # type: ignore[union-attr]
    if probs is not None:
        for i, name in enumerate(classes):
            frame[f"p:{name}"] = probs[:, i]
    with staged_dir(out) as tmp:
        write_json_atomic(tmp / "alignment.json", summary)
        if evaluation is not None:
            write_json_atomic(tmp / "evaluation.json", {"splits": {"target.test": evaluation}})
        (tmp / "predictions").mkdir()
        write_text_atomic(tmp / "predictions" / "target.csv", frame.to_csv(index=False))
    return Alignment(out, summary)


def _evaluate(
    tgt: DomainDataset,
    classes: list[str],
    pred: np.ndarray,
    probs: np.ndarray | None,
    summary: dict[str, Any],
) -> dict[str, Any] | None:
    """Target metrics when every target sample has a label the source knows."""
    from domainfit.evaluate.split_report import split_evaluation

    if tgt.labels is None or tgt.missing_labels().any():
        return None
    index = {name: i for i, name in enumerate(classes)}
    if not all(str(v) in index for v in tgt.labels):
        return None
    y = np.array([index[str(v)] for v in tgt.labels])
    # hard predictions (1-NN, SVM) become one-hot rows: accuracy-type metrics stay exact
    out = probs if probs is not None else np.eye(len(classes))[pred]
    evaluation = split_evaluation(y, out, "multiclass", classes)
    summary["accuracy"] = float((pred == y).mean())
    summary["accuracy_ci"] = evaluation["ci"].get("accuracy")
    return evaluation


def _matrix(ds: DomainDataset) -> np.ndarray:
    if ds.kind != "features":
        raise DataError(
            f"align works on feature arrays, but {ds.domain} holds {ds.kind}",
            "use domainfit fit with adapt.method (dann, coral, mmd, ...) for this data",
        )
    x = ds.inputs
    if sp.issparse(x):
        if x.shape[0] * x.shape[1] > DENSE_LIMIT:
            raise DataError(
                f"{ds.domain}: {x.shape[0]} x {x.shape[1]} is too large to make dense",
                "reduce the features first (features.select) or use domainfit fit",
            )
        x = x.toarray()
    return np.asarray(x, dtype=np.float64)


def _prepared(x: np.ndarray, preprocess: Preprocess) -> np.ndarray:
    if preprocess == "office":  # rows to unit sum, then z-score: the JDA/MEDA protocol
        return office_caltech_preprocess(x)
    if preprocess == "each":  # z-score each domain with its own statistics (no labels used)
        std = x.std(axis=0)
        return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return x
