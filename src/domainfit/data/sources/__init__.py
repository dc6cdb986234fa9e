"""Data sources, one small module per format, registered by name.

A source is ``load(spec: DataSpec, path: Path) -> DomainDataset``; ``path`` is the resolved
file or folder. Importing this package registers every built-in source.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.registry import Registry

SourceFn = Callable[[DataSpec, Path], DomainDataset]
SOURCES: Registry[SourceFn] = Registry("data format")

# Imported for their registration side effect.
from domainfit.data.sources import (  # noqa: E402, F401
    audio_folder,
    hf_disk,
    image_folder,
    matlab,
    npz,
    svmlight,
    tables,
)
