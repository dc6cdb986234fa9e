"""``domainfit align``: a classic feature-level method (CORAL, SA, TCA, JDA, GFK, PCA) followed
by a classifier, on a config's source and target feature data. Writes a folder, all or nothing:
``alignment.json`` (settings, the preprocessing protocol used, accuracy with its 95% interval
when the target has labels, the label-free validator scores), ``evaluation.json`` and
``predictions/target.csv``.

Inputs, in order: the config's ``features:`` selection (fitted on the labelled source, as fit
does), then either the config's ``preprocess:`` section when the config sets one (fitted on the
source and applied to both domains, as fit does) or a ``classic_protocols`` protocol (``auto``:
the published one for a named data set)."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from domainfit.adapt import classic_protocols
from domainfit.adapt.classic import CLASSIC_METHODS, CLASSIFIERS, adapt_and_classify
from domainfit.adapt.validators import information_maximization, snd
from domainfit.classic_params import canonical
from domainfit.config import RunConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.feature_pipeline import FeaturePipeline
from domainfit.data.features import FeatureSelector
from domainfit.data.pipeline import load_domains
from domainfit.errors import ConfigError, DataError
from domainfit.io_utils import staged_dir, write_json_atomic, write_text_atomic

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
    protocol: str = "auto",
    params: dict[str, Any] | None = None,
) -> Alignment:
    """``protocol``: a ``classic_protocols`` name; ``params`` may use the papers' names."""
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
    try:
        params = canonical(method, params or {})
    except ValueError as err:
        raise ConfigError(str(err), "see domainfit align --help for each method's") from None
    config_pre = "preprocess" in cfg.model_fields_set
    if config_pre and protocol != "auto":
        raise ConfigError(
            f"the config's preprocess: section and --protocol {protocol} both set the "
            "preprocessing",
            "remove one of them",
        )
    if cfg.features.time_features is not None:
        raise ConfigError(
            "features.time_features does not apply to align (feature arrays have no time order)",
            "remove features.time_features",
        )
    domains = load_domains(cfg, base_dir)
    src, tgt = domains["source"], domains["target"]
    if src.labels is None or src.missing_labels().any():
        raise DataError(f"the source {src.domain} needs a label for every sample", "fix labels")
    classes = sorted({str(v) for v in src.labels})
    index = {name: i for i, name in enumerate(classes)}
    ys = np.array([index[str(v)] for v in src.labels])
    if config_pre:
        xs, xt, used = _config_inputs(cfg, src, tgt, ys)
    else:
        chosen = classic_protocols.resolve(protocol, src.meta.get("named"))
        xs, xt = classic_protocols.apply(chosen, *_selected(cfg, src, tgt, ys))
        used = chosen.describe()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            result = adapt_and_classify(method, xs, ys, xt, classifier, c, **params)
        except ValueError as err:
            raise ConfigError(str(err), "check --param names and values (see --help)") from None
    notes = _notes(caught, classifier)
    seconds = time.perf_counter() - start
    pred = result.predictions.astype(int)
    probs = result.probabilities
    summary: dict[str, Any] = {
        "method": method,
        "params": params or {},
        "classifier": classifier,
        "c": c,
        "protocol": used,
        "features": cfg.features.model_dump(exclude={"time_features"}),
        "source": src.domain,
        "target": tgt.domain,
        "n_source": len(src),
        "n_target": len(tgt),
        "seconds": round(seconds, 3),
    }
    if notes:
        summary["notes"] = notes
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


def _selected(
    cfg: RunConfig, src: DomainDataset, tgt: DomainDataset, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Both domains after the config's feature selection, fitted on the labelled source."""
    xs, xt = _matrix(src), _matrix(tgt)
    if cfg.features.select == "none":
        return xs, xt
    selector = FeatureSelector(cfg.features, task="classification", seed=cfg.seed)
    selector.fit(xs, ys, src.feature_names())
    return np.asarray(selector.transform(xs)), np.asarray(selector.transform(xt))


def _config_inputs(
    cfg: RunConfig, src: DomainDataset, tgt: DomainDataset, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The config's preprocess then features sections, fitted on the source as fit does."""
    for ds in (src, tgt):
        _matrix(ds)  # the same clear error as the protocol path for non-feature data
    pipeline = FeaturePipeline.fit(src, cfg, "classification")
    xs, xt = (_dense(pipeline.transform(ds)) for ds in (src, tgt))
    used = {"name": "config", "preprocess": cfg.preprocess.model_dump()}
    return xs, xt, used


def _dense(x: Any) -> np.ndarray:
    return np.asarray(x.toarray() if sp.issparse(x) else x, dtype=np.float64)


def _notes(caught: list[warnings.WarningMessage], classifier: str) -> list[str]:
    """Third-party warnings become at most one domainfit line each; other warnings pass on.
    Liblinear/lbfgs stopping at max_iter is the usual one (JDA refits every round): the
    predictions are still usable, so it is a note, not a repeated scikit-learn warning."""
    hits = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:
        if w not in hits:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if not hits:
        return []
    return [
        f"{classifier} stopped at its iteration limit before converging in {len(hits)} "
        "fit(s); predictions are usable, a smaller --c converges faster"
    ]
