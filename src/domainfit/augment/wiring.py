"""The run's augmenter, built from ``augment:`` and the model that will read the batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from domainfit.augment.pipeline import DOMAIN_OPS, Augmenter, build_augmenter
from domainfit.config import RunConfig
from domainfit.data.loaders import EncodedSet
from domainfit.errors import ConfigError

if TYPE_CHECKING:
    from domainfit.fit import ModelParts


def augmenter_for(cfg: RunConfig, parts: ModelParts, audio: bool = False) -> Augmenter | None:
    """``audio``: the source holds waveforms (an image backbone hears them as spectrograms)."""
    if not cfg.augment:
        return None
    assert cfg.model is not None
    modality = "audio" if audio and parts.backbone.modality == "image" else parts.backbone.modality
    if parts.strategy.caches_features:
        if any(op.op != "mixup" for op in cfg.augment):
            raise ConfigError(
                f"strategy {cfg.strategy.name} trains on cached backbone features: input "
                "augmentation cannot reach them",
                "use strategy.name: frozen (same training, encoder run every step) or keep "
                "only mixup (feature-space mixing)",
            )
        modality = "features"
    pad_id, mask_id = 0, None
    if modality == "text" and parts.backbone.tokenizer_path is not None:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(parts.backbone.tokenizer_path, local_files_only=True)
        pad_id = int(tok.pad_token_id or 0)
        mask_id = tok.mask_token_id if tok.mask_token_id is not None else tok.unk_token_id
    aug = build_augmenter(
        [op.model_dump() for op in cfg.augment],
        modality,
        seed=cfg.seed,
        task=parts.task,
        n_classes=len(parts.classes),
        pad_id=pad_id,
        max_length=cfg.model.max_length,
        mask_id=mask_id,
    )
    if aug is not None and modality == "image":
        from domainfit.models.image_convention import image_convention

        conv = image_convention(cfg.model)
        aug.mean = torch.tensor(conv.mean, dtype=torch.float32).reshape(1, 3, 1, 1)
        aug.std = torch.tensor(conv.std, dtype=torch.float32).reshape(1, 3, 1, 1)
    adversarial = aug is not None and any(k in aug.model_ops for k in ("fgsm", "pgd", "embed_fgsm"))
    if adversarial and cfg.adapt.enabled:
        raise ConfigError(
            "adversarial augmentation (fgsm, pgd, embed_fgsm) and adapt are not combined yet",
            "drop one of them",
        )
    if aug is not None and aug.needs_target and cfg.data.target is None:
        names = ", ".join(s.name for s in aug.steps if s.name in DOMAIN_OPS)
        raise ConfigError(
            f"augment ops {names} make source images look like the target's, but data.target "
            "is not set",
            "set data.target (labels are not needed)",
        )
    return aug


def give_target(aug: Augmenter | None, sets: dict[str, EncodedSet]) -> None:
    """The target's images for the domain operations: its training split (all of it under
    the transductive protocol)."""
    if aug is None or not aug.needs_target:
        return
    for name in ("target.train", "target.test"):
        if name in sets and len(sets[name]):
            aug.set_target(sets[name].inputs["x"])
            return


def attach_model_ops(aug: Augmenter | None, parts: ModelParts) -> None:
    """MixStyle hooks after the named stages (default: the backbone's 2nd and 3rd layer
    groups, early enough to carry style); the adversarial settings go to the trainer."""
    if aug is None:
        return
    if "embed_mixup" in aug.model_ops or "embed_fgsm" in aug.model_ops:
        from domainfit.augment.embedding_ops import attach

        try:
            aug.embedding_hook = attach(parts.backbone.inner)
        except ValueError as err:
            raise ConfigError(f"augment: {err}", "use the token_* operations") from None
    if "spec_mask" in aug.model_ops:
        encoder = parts.backbone.encoder
        if not hasattr(encoder, "spec_mask"):
            raise ConfigError(
                "augment spec_mask needs a timm, torchvision or local image backbone",
                "choose one of those for audio",
            )
        encoder.spec_mask = dict(aug.model_ops["spec_mask"])
    if "mixstyle" not in aug.model_ops:
        return
    from domainfit.augment.feature_ops import add_mixstyle
    from domainfit.models.groups import layer_groups

    ms = aug.model_ops["mixstyle"]
    layers = ms["layers"]
    if layers is None:
        names = [g.name for g in layer_groups(parts.backbone.inner, parts.backbone.family)]
        modules = dict(parts.backbone.inner.named_modules())
        layers = [n for n in names[1:3] if n in modules]
    try:
        add_mixstyle(parts.backbone.inner, list(layers), float(ms["p"]), float(ms["alpha"]))
    except ValueError as err:
        raise ConfigError(f"augment mixstyle: {err}", "name stages in layers: [...]") from None


def is_audio(ds: object) -> bool:
    return bool(getattr(ds, "meta", {}).get("audio")) and getattr(ds, "kind", "") == "features"
