"""Features of a pretrained backbone for any data set, without training anything.

The building block for looking at data through a model before fine-tuning it: transferability
scores (``rank``), domain-gap checks, and classic adaptation on frozen features. Results are
cached on disk by the same keys ``linear_probe`` uses, so a repeated call costs a file read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from domainfit.config import ModelConfig
from domainfit.data.dataset import DomainDataset
from domainfit.data.load import load_domain
from domainfit.data.loaders import EncodedSet
from domainfit.errors import ConfigError
from domainfit.models.backbone import Backbone


def embed(
    data: DomainDataset | str,
    backbone: str = "minilm",
    *,
    max_length: int = 256,
    truncation: str = "head",
    pooling: str = "mean",
    image_size: int | None = None,
    batch_size: int = 64,
    cache_dir: str | Path | None = None,
    layer: int | None = None,
    loaded: Backbone | None = None,
    model_cfg: ModelConfig | None = None,
) -> np.ndarray:
    """(N, D) float32 pooled features of ``backbone`` for ``data`` (a path, a named set such
    as ``amazon-reviews:kitchen``, or a DomainDataset), in the data's row order.

    ``cache_dir``: where computed features are kept (keyed by the model's weights, the encoded
    inputs and the settings); None computes without caching. ``layer``: pool the output of
    that transformer layer (0 = embeddings) instead of the last, for Hugging Face text models.
    ``truncation``: which part of a text longer than ``max_length`` is read (``head``, ``tail``,
    ``head_tail``; see ``model.truncation``).
    ``loaded``: ``backbone`` already loaded (callers embedding several sets load it once).
    ``image_size``: None, the backbone's own input convention. ``model_cfg``: a run's model
    section, used whole (its image normalisation too) instead of the arguments above.
    """
    from domainfit.models.backbone import load_backbone
    from domainfit.models.feature_cache import cached_feature_sets, compute_features
    from domainfit.models.inputs import input_encoder
    from domainfit.models.specs import parse_spec

    ds = data if isinstance(data, DomainDataset) else load_domain(data)
    cfg = model_cfg or ModelConfig.model_validate(
        {
            "backbone": backbone,
            "max_length": max_length,
            "truncation": truncation,
            "pooling": pooling,
            "image_size": image_size,
        }
    )
    backbone = cfg.backbone
    if parse_spec(backbone).kind == "mlp":
        raise ConfigError(
            f"backbone {backbone!r} is built from the data and has no pretrained features",
            "name a pretrained backbone (minilm, hf:PATH, timm:NAME, torchvision:NAME, file:PATH)",
        )
    bb = loaded if loaded is not None else load_backbone(cfg)
    spec = str(bb.spec)
    if layer is not None:
        set_layer(bb.encoder, layer, backbone)
        spec += f"#layer{layer}"
    encode, pad_id = input_encoder(bb, cfg)
    encoded = EncodedSet(encode(ds), None, pad_id)
    if cache_dir is None:
        return compute_features(bb.encoder, encoded, batch_size).numpy()
    sets = cached_feature_sets(
        bb.encoder,
        spec,  # the layer is part of the cache key: each layer's features are their own
        cfg,
        {"all": encoded},
        {"all": ds.ids},
        Path(cache_dir),
        batch_size,
    )
    return np.asarray(sets["all"].inputs["x"], dtype=np.float32)


def set_layer(encoder: object, layer: int, backbone: str) -> None:
    """Pool ``encoder``'s ``layer``-th hidden state; only Hugging Face text encoders expose
    their layers this way."""
    from domainfit.models.hf_models import HFTextEncoder

    if not isinstance(encoder, HFTextEncoder):
        raise ConfigError(
            f"layer {layer} of {backbone!r}: layers can be chosen for Hugging Face text models",
            "drop the #layer suffix for this backbone",
        )
    depth = int(getattr(encoder.model.config, "num_hidden_layers", 0))
    if not 0 <= layer <= depth:
        raise ConfigError(
            f"{backbone!r} has layers 0..{depth}, not {layer}", f"choose a layer in 0..{depth}"
        )
    encoder.layer = layer
