"""Named public data sets resolved from the data root (being written)."""

from __future__ import annotations

from domainfit.data.dataset import DomainDataset


def is_named(spec: str) -> bool:
    return False


def load_named(spec: str) -> DomainDataset:
    raise KeyError(spec)
