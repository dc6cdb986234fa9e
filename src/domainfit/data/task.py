"""Is this a classification or a regression problem?"""

from __future__ import annotations

from typing import Literal

import numpy as np

from domainfit.data.dataset import DomainDataset
from domainfit.errors import DataError

Task = Literal["classification", "regression"]
_MAX_INTEGER_CLASSES = 100


def infer_task(ds: DomainDataset, declared: str = "auto") -> Task | None:
    """Declared task, or: non-numeric or integer labels with few values -> classification."""
    if ds.labels is None:
        return None
    present = ds.labels[~ds.missing_labels()]
    if declared == "classification":
        return "classification"
    if declared == "regression":
        try:
            present.astype(float)
        except (TypeError, ValueError):
            raise DataError(
                f"data.task=regression but labels of {ds.domain} are not numbers "
                f"(e.g. {present[0]!r})",
                "set data.task=classification",
            ) from None
        return "regression"
    try:
        values = present.astype(float)
    except (TypeError, ValueError):
        return "classification"
    integral = bool(np.all(values == np.round(values)))
    if integral and len(np.unique(values)) <= _MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"
