"""In-memory data through the Python API: pandas DataFrames and NumPy arrays."""

from __future__ import annotations

from typing import Any

import pandas as pd

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.sources.arrays import arrays_to_dataset
from domainfit.data.sources.table import frame_to_dataset
from domainfit.errors import DataError


def from_pandas(
    df: pd.DataFrame,
    *,
    label: str | None = None,
    text: str | None = None,
    features: list[str] | None = None,
    group: str | None = None,
    time: str | None = None,
    domain: str = "memory",
) -> DomainDataset:
    """A DataFrame with the same column roles a file source takes."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"from_pandas needs a pandas DataFrame, got {type(df).__name__}")
    spec = DataSpec(
        spec="<pandas>", label=label, text=text, features=features, group=group, time=time
    )
    return frame_to_dataset(df, spec, f"<pandas DataFrame {domain}>", domain)


def from_numpy(
    x: Any,
    y: Any | None = None,
    *,
    groups: Any | None = None,
    times: Any | None = None,
    feature_names: list[str] | None = None,
    domain: str = "memory",
) -> DomainDataset:
    """A (samples, features) array, dense or scipy-sparse, with optional labels."""
    return arrays_to_dataset(
        x,
        y,
        domain=domain,
        origin=f"<numpy array {domain}>",
        groups=groups,
        times=times,
        feature_names=feature_names,
    )
