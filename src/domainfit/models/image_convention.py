"""How a backbone wants its images: size, resize/crop and normalisation.

A pretrained network only transfers when it sees pixels prepared the way it was trained on
them; the same ImageNet weights lose points with another normalisation (EfficientNet-Lite0:
97.5 % of PACS dog photos named as dogs with [-1, 1] inputs, 85 % with ImageNet's mean/std).
So each backbone brings its own convention, resolved from the spec alone (no weights are read):

- ``efficientnet-lite0``: 224 px, the whole image resized, mean = std = 0.5 (TensorFlow's
  convention, where these weights come from);
- ``timm:NAME[.TAG]``: timm's ``pretrained_cfg`` (input size, crop_pct, mean, std);
- ``torchvision:NAME[@WEIGHTS]``: the weights' own eval transforms (resize, centre crop);
- ``hf:FOLDER`` vision models: the folder's ``preprocessor_config.json``;
- anything else (``local:``, ``python:``): 32 px with ImageNet statistics.

Every field can be overridden in the config (``model.image_size``, ``image_mean``,
``image_std``, ``image_crop_pct``); fit, evaluate, predict, rank, diagnose and export all call
``image_convention`` so they prepare images identically.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from domainfit.config import ModelConfig
from domainfit.models.specs import BackboneSpec, parse_spec

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LEGACY_SIZE = 32  # backbones with no pretrained configuration to read


@dataclass(frozen=True)
class ImageConvention:
    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop_pct: float  # 1.0: resize the whole image to size x size
    interpolation: str  # "bilinear" or "bicubic"
    source: str  # where the values come from, shown by inspect and the report

    def describe(self) -> dict[str, object]:
        return asdict(self)

    def resize_to(self) -> int:
        """The shorter side before the centre crop."""
        return self.size if self.crop_pct >= 1.0 else round(self.size / self.crop_pct)


def image_convention(cfg: ModelConfig) -> ImageConvention:
    """The backbone's convention with the config's overrides applied."""
    base = library_convention(parse_spec(cfg.backbone))
    overridden = [
        name
        for name in ("image_size", "image_mean", "image_std", "image_crop_pct")
        if getattr(cfg, name) is not None
    ]
    if not overridden:
        return base
    return ImageConvention(
        size=cfg.image_size or base.size,
        mean=tuple(cfg.image_mean) if cfg.image_mean else base.mean,  # type: ignore[arg-type]
        std=tuple(cfg.image_std) if cfg.image_std else base.std,  # type: ignore[arg-type]
        crop_pct=cfg.image_crop_pct if cfg.image_crop_pct is not None else base.crop_pct,
        interpolation=base.interpolation,
        source=f"{base.source}; config sets {', '.join(overridden)}",
    )


def library_convention(spec: BackboneSpec) -> ImageConvention:
    if spec.kind == "named":
        from domainfit.models.named_backbones import named_backbone

        return named_backbone(spec.target).convention
    if spec.kind == "timm":
        return _timm(spec.target)
    if spec.kind == "torchvision":
        return _torchvision(spec.target)
    if spec.kind == "hf":
        return _hf(Path(spec.target).expanduser())
    return ImageConvention(
        LEGACY_SIZE, IMAGENET_MEAN, IMAGENET_STD, 1.0, "bilinear", f"default for {spec.kind}"
    )


def _timm(target: str) -> ImageConvention:
    import timm

    try:
        pc = timm.models.get_pretrained_cfg(target)
    except RuntimeError:  # an unknown tag: the loader reports it with the known ones
        pc = None
    if pc is None:
        return ImageConvention(224, IMAGENET_MEAN, IMAGENET_STD, 0.875, "bicubic", "timm default")
    return ImageConvention(
        int(pc.input_size[-1]),
        _triple(pc.mean),
        _triple(pc.std),
        float(pc.crop_pct or 1.0),
        "bicubic" if pc.interpolation == "bicubic" else "bilinear",
        f"timm pretrained_cfg of {pc.architecture}.{pc.tag}" if pc.tag else "timm pretrained_cfg",
    )


def _torchvision(target: str) -> ImageConvention:
    from domainfit.models.torchvision_models import split_target, weights_enum

    name, tag = split_target(target)
    weights = weights_enum(name, tag or "DEFAULT", strict=False)
    if weights is None:  # an architecture without published weights
        return ImageConvention(224, IMAGENET_MEAN, IMAGENET_STD, 0.875, "bilinear", "ImageNet")
    t = weights.transforms()
    crop, resize = int(t.crop_size[0]), int(t.resize_size[0])
    interp = "bicubic" if "BICUBIC" in str(t.interpolation) else "bilinear"
    return ImageConvention(
        crop, _triple(t.mean), _triple(t.std), crop / resize, interp, f"torchvision {weights}"
    )


def _hf(folder: Path) -> ImageConvention:
    path = folder / "preprocessor_config.json"
    conf: dict[str, object] = {}
    if path.is_file():
        try:
            conf = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            conf = {}
    size = conf.get("size", LEGACY_SIZE)
    if isinstance(size, dict):  # {"height": h, "width": w} or {"shortest_edge": s}
        size = size.get("height") or size.get("shortest_edge") or LEGACY_SIZE
    crop_pct = conf.get("crop_pct") or 1.0
    return ImageConvention(
        int(size),  # type: ignore[call-overload]
        _triple(conf.get("image_mean", IMAGENET_MEAN)),
        _triple(conf.get("image_std", IMAGENET_STD)),
        float(crop_pct),  # type: ignore[arg-type]
        "bilinear",
        "preprocessor_config.json" if conf else "default for hf",
    )


def _triple(values: object) -> tuple[float, float, float]:
    seq = [float(v) for v in values]  # type: ignore[attr-defined]
    if len(seq) == 1:
        seq = seq * 3
    return (seq[0], seq[1], seq[2])
