"""domainfit: adapt pretrained models to your domain's data, and learn why it works or fails.

The public names load on first use: ``import domainfit`` (and so the CLI's ``--help``) must not
pay for torch, transformers and scikit-learn before anything needs them.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domainfit.api import (
        align,
        audit,
        auto,
        diagnose,
        evaluate,
        fit,
        inspect,
        lr_find,
        predict,
        prepare,
        rank,
        sweep,
    )
    from domainfit.data.dataset import DomainDataset
    from domainfit.data.load import load_domain as load_data
    from domainfit.data.sources.memory import from_numpy, from_pandas
    from domainfit.embed import embed

__version__ = "0.1.0"

_API = ("align", "audit", "auto", "diagnose", "evaluate", "fit", "inspect", "lr_find", "predict")
_WHERE: dict[str, tuple[str, str]] = {
    **{name: ("domainfit.api", name) for name in (*_API, "prepare", "rank", "sweep")},
    "DomainDataset": ("domainfit.data.dataset", "DomainDataset"),
    "load_data": ("domainfit.data.load", "load_domain"),
    "from_numpy": ("domainfit.data.sources.memory", "from_numpy"),
    "from_pandas": ("domainfit.data.sources.memory", "from_pandas"),
    "embed": ("domainfit.embed", "embed"),
}
__all__ = [
    "DomainDataset",
    "align",
    "audit",
    "auto",
    "diagnose",
    "embed",
    "evaluate",
    "fit",
    "from_numpy",
    "from_pandas",
    "inspect",
    "load_data",
    "lr_find",
    "predict",
    "prepare",
    "rank",
    "sweep",
]


_loaded: dict[str, Any] = {}


def _resolve(name: str) -> Any:
    if name not in _loaded:
        module, attr = _WHERE[name]
        _loaded[name] = getattr(importlib.import_module(module), attr)
    return _loaded[name]


class _Package(ModuleType):
    """``fit``, ``evaluate``, ``diagnose`` and ``rank`` are both functions here and submodules:
    importing a submodule sets the package attribute to the module, so the public names are
    looked up first (as the eager imports used to leave them)."""

    def __getattribute__(self, name: str) -> Any:
        if name in _WHERE:
            return _resolve(name)
        return super().__getattribute__(name)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *__all__})


sys.modules[__name__].__class__ = _Package
