"""Turn feature arrays (dense or sparse) and label vectors into a DomainDataset."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from domainfit.data.dataset import DomainDataset
from domainfit.errors import DataError


def arrays_to_dataset(
    x: object,
    y: object | None,
    *,
    domain: str,
    origin: str,
    groups: object | None = None,
    times: object | None = None,
    feature_names: list[str] | None = None,
) -> DomainDataset:
    """Validate shapes (transposing a features-by-samples matrix when the labels say so)."""
    matrix = x.tocsr() if sp.issparse(x) else np.asarray(x)
    if matrix.ndim == 1:
        matrix = matrix.reshape(-1, 1)
    if matrix.ndim != 2:
        raise DataError(
            f"features in {origin} have shape {matrix.shape}; expected (samples, features)",
            "flatten them or pick another variable",
        )
    labels = None if y is None else np.asarray(y).reshape(-1)
    if labels is not None and matrix.shape[0] != len(labels):
        if matrix.shape[1] == len(labels):
            matrix = matrix.T.tocsr() if sp.issparse(matrix) else matrix.T  # MATLAB column layout
        else:
            raise DataError(
                f"{origin}: {matrix.shape[0]} samples of features but {len(labels)} labels",
                "check the variable names",
            )
    if matrix.shape[0] == 0:
        raise DataError(f"{origin} contains no samples", "pick another file")
    if labels is not None and labels.dtype.kind in "iuf" and labels.dtype.kind != "f":
        labels = labels.astype(np.int64)
    return DomainDataset(
        domain=domain,
        kind="features",
        inputs=matrix,
        labels=labels,
        groups=None if groups is None else np.asarray(groups).reshape(-1),
        times=None if times is None else np.asarray(times).reshape(-1),
        origin=origin,
        meta={"feature_names": feature_names} if feature_names else {},
    )
