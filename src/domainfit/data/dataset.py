"""DomainDataset: what every source yields and every later stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

Kind = Literal["text", "tabular", "image", "features"]
KINDS: tuple[Kind, ...] = ("text", "tabular", "image", "features")


@dataclass(frozen=True)
class LoadProblem:
    """A sample that could not be read (corrupt image, undecodable file)."""

    index: int
    item: str
    reason: str


@dataclass
class DomainDataset:
    """Samples of one domain, with their labels and optional group and time columns.

    ``inputs`` by kind:
      - text: ``list[str | None]`` (None = missing text)
      - tabular: ``pandas.DataFrame`` of the feature columns
      - image: ``list[str]`` of file paths
      - features: ``numpy.ndarray`` (n, d) or ``scipy.sparse.csr_matrix``

    ``labels``, ``groups`` and ``times`` are 1-d numpy arrays of length n (or None); missing
    labels are ``None``/``NaN``. ``parts`` is a predefined split ("train"/"val"/"test") when the
    data carries one. ``ids`` names each sample for humans ("row 12", a file path).
    ``extras`` holds further per-sample arrays (a review's rating, say), indexed with the samples;
    ``meta`` holds facts about the whole set (class names, image shape).
    """

    domain: str
    kind: Kind
    inputs: Any
    labels: np.ndarray | None = None
    groups: np.ndarray | None = None
    times: np.ndarray | None = None
    parts: np.ndarray | None = None
    ids: list[str] = field(default_factory=list)
    origin: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self)
        if not self.ids:
            self.ids = [f"row {i}" for i in range(n)]
        for name in ("labels", "groups", "times", "parts"):
            arr = getattr(self, name)
            if arr is not None and len(arr) != n:
                raise ValueError(f"{name} has {len(arr)} entries but there are {n} samples")
        for name, arr in self.extras.items():
            if len(arr) != n:
                raise ValueError(f"extras[{name!r}] has {len(arr)} entries, not {n}")
        if len(self.ids) != n:
            raise ValueError(f"ids has {len(self.ids)} entries but there are {n} samples")

    def __len__(self) -> int:
        if sp.issparse(self.inputs) or isinstance(self.inputs, np.ndarray | pd.DataFrame):
            return int(self.inputs.shape[0])
        return len(self.inputs)

    @property
    def has_labels(self) -> bool:
        return self.labels is not None and bool((~self.missing_labels()).any())

    def missing_labels(self) -> np.ndarray:
        """Boolean mask of samples without a label (all True when unlabelled)."""
        if self.labels is None:
            return np.ones(len(self), dtype=bool)
        return np.asarray(pd.isna(pd.Series(self.labels, dtype=object)), dtype=bool)

    def feature_names(self) -> list[str]:
        if isinstance(self.inputs, pd.DataFrame):
            return [str(c) for c in self.inputs.columns]
        names = self.meta.get("feature_names")
        if names is not None:
            return list(names)
        if self.kind == "features":
            return [f"f{j}" for j in range(self.inputs.shape[1])]
        return []

    def subset(self, index: np.ndarray | list[int]) -> DomainDataset:
        """The samples at ``index`` (positions), in that order; problems are re-indexed."""
        idx = np.asarray(index, dtype=int)
        if isinstance(self.inputs, pd.DataFrame):
            inputs: Any = self.inputs.iloc[idx].reset_index(drop=True)
        elif sp.issparse(self.inputs):
            inputs = self.inputs.tocsr()[idx]
        elif isinstance(self.inputs, np.ndarray):
            inputs = self.inputs[idx]
        else:
            inputs = [self.inputs[i] for i in idx]
        where = {int(old): new for new, old in enumerate(idx)}
        problems = [replace(p, index=where[p.index]) for p in self.problems if p.index in where]
        return replace(
            self,
            inputs=inputs,
            labels=None if self.labels is None else self.labels[idx],
            groups=None if self.groups is None else self.groups[idx],
            times=None if self.times is None else self.times[idx],
            parts=None if self.parts is None else self.parts[idx],
            ids=[self.ids[i] for i in idx],
            extras={k: np.asarray(v)[idx] for k, v in self.extras.items()},
            problems=problems,
        )
