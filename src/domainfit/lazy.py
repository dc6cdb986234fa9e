"""Modules that load on first attribute access, so a command's start-up pays only for what it
runs (``domainfit --help`` must not import torch)."""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands for module ``name`` and imports it when an attribute is first read.

    Not registered in ``sys.modules`` (unlike ``importlib.util.LazyLoader``): code that walks
    ``sys.modules`` (``inspect.getmodule``, pytest's tracebacks) would trigger the import in the
    middle of another one and hit the package's import cycles."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """``name`` as an object whose attributes are the module's, imported on first use."""
    return LazyModule(name)
