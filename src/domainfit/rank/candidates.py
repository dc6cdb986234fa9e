"""Rank candidates: what each names, and its features (and source outputs) on the data.

A candidate is a backbone spec as ``model.backbone`` takes it (``minilm``, ``hf:...``,
``timm:...``, ``local:...``), optionally with ``#k`` to read the output of layer ``k`` of a
Hugging Face text model, or ``run:PATH``: a domainfit run folder, whose trained head also gives
source-class probabilities (so LEEP and NCE apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from domainfit.config import ModelConfig, RunConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.loaders import EncodedSet
from domainfit.errors import ConfigError


@dataclass
class Candidate:
    name: str
    spec: str  # backbone spec, or the run folder for run: candidates
    layer: int | None = None
    run: Path | None = None


def parse_candidate(text: str) -> Candidate:
    raw = text.strip()
    if raw.startswith("run:"):
        folder = Path(raw.removeprefix("run:")).expanduser()
        if not (folder / "model" / "model.safetensors").is_file():
            raise ConfigError(
                f"rank candidate {raw!r}: {folder} is not a finished run folder",
                "point run: at a folder that domainfit fit wrote",
            )
        return Candidate(raw, str(folder), run=folder)
    spec, sep, layer = raw.partition("#")
    if sep and not layer.isdigit():
        raise ConfigError(
            f"rank candidate {raw!r}: '#{layer}' is not a layer number", "write SPEC#3"
        )
    return Candidate(raw, spec, int(layer) if sep else None)


@dataclass
class Extracted:
    features: np.ndarray
    source_probs: np.ndarray | None  # run: candidates only
    encoder: nn.Module
    encoded: EncodedSet
    target_features: np.ndarray | None = None


def extract(
    cand: Candidate, ds: DomainDataset, cfg: RunConfig, target: DomainDataset | None = None
) -> Extracted:
    """Features (cached on disk like linear_probe's) and, for runs, source probabilities;
    with ``target``, the target's features too."""
    from domainfit.models.feature_cache import cached_feature_sets

    assert cfg.model is not None
    bs = cfg.train.batch_size
    if cand.run is not None:
        from domainfit.inference import load_run, outputs

        trained = load_run(cand.run)
        encode, pad_id = trained.encode, trained.pad_id
        encoded = EncodedSet(encode(ds), None, pad_id)
        probs = outputs(trained, ds, bs) if trained.task != "regression" else None
        encoder, spec, mcfg = trained.model.encoder, f"run:{cand.run.resolve()}", trained.cfg.model
        assert mcfg is not None
    else:
        from domainfit.embed import set_layer
        from domainfit.models.backbone import load_backbone
        from domainfit.models.inputs import input_encoder

        mcfg = ModelConfig.model_validate({**cfg.model.model_dump(), "backbone": cand.spec})
        bb = load_backbone(mcfg)
        if bb.modality == "features":
            raise ConfigError(
                f"rank candidate {cand.name!r} is built from the data, not pretrained",
                "rank pretrained backbones (or run: folders)",
            )
        if cand.layer is not None:
            set_layer(bb.encoder, cand.layer, cand.spec)
        encode, pad_id = input_encoder(bb, mcfg)
        encoded = EncodedSet(encode(ds), None, pad_id)
        encoder, spec, probs = bb.encoder, str(bb.spec) + _layer_tag(cand), None
    wanted, ids = {"rank": encoded}, {"rank": ds.ids}
    if target is not None:
        wanted["target"], ids["target"] = EncodedSet(encode(target), None, pad_id), target.ids
    sets = cached_feature_sets(encoder, spec, mcfg, wanted, ids, Path(cfg.strategy.cache_dir), bs)
    feats = np.asarray(sets["rank"].inputs["x"], dtype=np.float64)
    target_feats = (
        np.asarray(sets["target"].inputs["x"], dtype=np.float64) if target is not None else None
    )
    return Extracted(feats, probs, encoder, encoded, target_feats)


def _layer_tag(cand: Candidate) -> str:
    return "" if cand.layer is None else f"#layer{cand.layer}"
