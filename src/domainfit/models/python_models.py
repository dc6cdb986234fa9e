"""``python:<module>:<callable>``: a user's own ``nn.Module``, opt-in (``model.allow_python``).

The callable is called with no arguments and must return an ``nn.Module`` mapping a tensor
``x`` to (B, D) features and having an ``out_features`` attribute (or ``num_features``).
Importing the module runs its code, which is why it needs the explicit opt-in.
"""

from __future__ import annotations

import importlib

from torch import nn

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import LOADERS, Backbone, PooledEncoder
from domainfit.models.specs import BackboneSpec
from domainfit.models.weights import load_into


@LOADERS.register("python")
def load_python(spec: BackboneSpec, cfg: ModelConfig) -> Backbone:
    if not cfg.allow_python:
        raise ConfigError(
            f"model.backbone=python:{spec.target} imports and runs your code",
            "set model.allow_python=true to allow it",
        )
    module_name, sep, attr = spec.target.partition(":")
    if not sep:
        raise ConfigError(
            f"python:{spec.target} needs the form python:<module>:<callable>",
            "e.g. python:my_models:build",
        )
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(
            f"cannot import {module_name}:{attr} ({err})",
            "check the module is importable (PYTHONPATH) and the name",
        ) from None
    model = factory()
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"{module_name}:{attr}() returned {type(model).__name__}, not nn.Module",
            "return the model instance",
        )
    width = getattr(model, "out_features", None) or getattr(model, "num_features", None)
    if not isinstance(width, int):
        raise ConfigError(
            f"{module_name}:{attr}() model has no integer out_features",
            "set model.out_features to the width of its output",
        )
    source = f"what {module_name}:{attr}() built"  # its own business whether that is pretrained
    if cfg.weights:
        load_into(model, cfg.weights)
        source = f"file {cfg.weights}"
    return Backbone(PooledEncoder(model), model, "generic", "image", width, spec, source)
