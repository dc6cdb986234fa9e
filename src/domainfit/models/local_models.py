"""``local:<folder>``: ``model.safetensors`` plus ``domainfit_model.json`` naming the architecture.

The JSON: ``{"library": "timm" | "torchvision", "name": "resnet18", "kwargs": {...}}``. A folder
saved by Hugging Face's ``save_pretrained`` (it has ``config.json``) is loaded as ``hf:``.
"""

from __future__ import annotations

import json
from pathlib import Path

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import LOADERS, Backbone, PooledEncoder
from domainfit.models.specs import BackboneSpec
from domainfit.models.weights import load_into

DESCRIPTION = "domainfit_model.json"
WEIGHTS = "model.safetensors"


@LOADERS.register("local")
def load_local(spec: BackboneSpec, cfg: ModelConfig) -> Backbone:
    folder = Path(spec.target).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"local model folder {folder} not found", "check model.backbone")
    if (folder / "config.json").is_file() and not (folder / DESCRIPTION).is_file():
        return LOADERS.get("hf")(BackboneSpec("hf", str(folder)), cfg)
    desc_path, weights = folder / DESCRIPTION, folder / WEIGHTS
    for needed in (desc_path, weights):
        if not needed.is_file():
            raise ConfigError(
                f"{folder} has no {needed.name}", f"a local model needs {DESCRIPTION} and {WEIGHTS}"
            )
    try:
        desc = json.loads(desc_path.read_text(encoding="utf-8"))
        library, name, kwargs = desc["library"], desc["name"], dict(desc.get("kwargs", {}))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ConfigError(
            f"{desc_path} is not a valid model description ({err})",
            'write {"library": "timm", "name": "resnet18"}',
        ) from None
    if library == "timm":
        from domainfit.models.timm_models import build_timm, timm_family

        model = build_timm(name, **kwargs)
        width, family = int(model.num_features), timm_family(name)
    elif library == "torchvision":
        from domainfit.models.torchvision_models import build_torchvision, torchvision_family

        model, width = build_torchvision(name, **kwargs)
        family = torchvision_family(name)
    else:
        raise ConfigError(
            f"{desc_path}: library '{library}' is not supported",
            "use timm or torchvision, or a Hugging Face folder",
        )
    load_into(model, weights)
    return Backbone(PooledEncoder(model), model, family, "image", width, spec, f"file {weights}")
