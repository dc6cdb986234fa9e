"""The features each domain's checks read: what the model starts from.

For a pretrained backbone its frozen pooled output (``domainfit.embed``); for a network built
from the data (``mlp``) the fitted preprocessing. At most ``MAX_ROWS`` rows per domain, a seeded
subsample: the checks are statistics. Shared by ``diagnose`` and the truncation recount, which
reads the source again with a longer ``max_length``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from domainfit.config import RunConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.pipeline import PreparedData
from domainfit.diagnose.feature_findings import MAX_ROWS, Labelled, subsample
from domainfit.models.backbone import Backbone


def source_classes(prepared: PreparedData) -> list[str]:
    src = prepared.clean["source"]
    return sorted({str(v) for v in src.labels[~src.missing_labels()]})  # type: ignore[index]


def features(
    cfg: RunConfig, prepared: PreparedData, seed: int, bb: Backbone | None
) -> dict[str, Labelled]:
    """Per role, its features (see the module docstring)."""
    from domainfit.models.specs import parse_spec

    assert cfg.model is not None
    pipeline = None
    if parse_spec(cfg.model.backbone).kind == "mlp":
        from domainfit.fit import _fit_preprocessor

        pipeline = _fit_preprocessor(prepared, cfg)
    classes = source_classes(prepared)
    return {
        role: role_features(cfg, ds, classes, seed, bb, pipeline)
        for role, ds in prepared.clean.items()
    }


def role_features(
    cfg: RunConfig,
    ds: DomainDataset,
    classes: list[str],
    seed: int,
    bb: Backbone | None,
    pipeline: Any = None,
) -> Labelled:
    """One domain's features: through ``pipeline`` (the fitted preprocessing) when given, else
    ``cfg.model``'s backbone ``bb``."""
    from domainfit.embed import embed

    assert cfg.model is not None
    sub = ds.subset(subsample(np.arange(len(ds)), MAX_ROWS, seed))
    if pipeline is not None:
        x = pipeline.transform(sub)
        x = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    else:
        m = cfg.model
        x = embed(
            sub,
            m.backbone,
            model_cfg=m,
            batch_size=cfg.train.batch_size,
            cache_dir=cfg.strategy.cache_dir,
            loaded=bb,
        )
    return Labelled(
        ds.domain,
        np.asarray(x, dtype=np.float64),
        class_ids(sub, classes),
        [sub.ids[i] for i in range(len(sub))],
        _shown(sub),
        classes,
    )


def class_ids(ds: DomainDataset, classes: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    if ds.labels is None:
        return np.full(len(ds), -1, dtype=np.int64)
    missing = ds.missing_labels()
    return np.array(
        [-1 if m else index.get(str(v), -1) for v, m in zip(ds.labels, missing, strict=True)],
        dtype=np.int64,
    )


def _shown(ds: DomainDataset) -> list[str] | None:
    """What a reviewer reads per sample: the text, the image's path, a table row's values;
    None for bare feature vectors, whose numbers say nothing to a reader."""
    if ds.kind == "text":
        return ["" if t is None else str(t) for t in ds.inputs]
    if ds.kind == "image":
        return [str(p) for p in ds.inputs]
    if ds.kind == "tabular":
        return [
            ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
            )
            for row in ds.inputs.to_dict("records")
        ]
    return None
