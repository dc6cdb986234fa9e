"""Which variables of an array file (.npz, .mat) hold the features, labels, groups and times.

Shared by the npz and MATLAB sources so both guess the same way: an explicit name in the
DataSpec must exist; otherwise a feature variable is guessed only when the answer is unambiguous,
and a missing label variable simply means the data are unlabelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from domainfit.config import DataSpec
from domainfit.errors import DataError

# Label variable that goes with a feature variable (JDA-style files hold Xs/Ys and Xt/Yt).
PAIRS: dict[str, str] = {
    "X": "Y",
    "x": "y",
    "Xs": "Ys",
    "Xt": "Yt",
    "fts": "labels",
    "fea": "gnd",
    "features": "labels",
}


@dataclass(frozen=True)
class Chosen:
    """Variable names picked from a file; None where the file has no such variable."""

    x: str
    label: str | None
    group: str | None
    time: str | None


def choose(
    shapes: Mapping[str, tuple[int, ...]],
    spec: DataSpec,
    origin: str,
    x_names: Sequence[str],
    label_names: Sequence[str],
) -> Chosen:
    """Pick variables by the spec, else by the candidate names (``shapes``: name -> shape)."""
    x = _choose_x(shapes, spec, origin, x_names)
    return Chosen(
        x=x,
        label=_choose_label(shapes, spec, origin, x, label_names),
        group=_named(shapes, spec.group, "group", origin),
        time=_named(shapes, spec.time, "time", origin),
    )


def listing(names: Sequence[str]) -> str:
    return ", ".join(sorted(names)) if names else "(none)"


def class_codes(labels: np.ndarray | None) -> np.ndarray | None:
    """Whole-number float labels as int64: MATLAB and svmlight store class codes as doubles."""
    if labels is None or labels.dtype.kind != "f":
        return labels
    flat = labels.reshape(-1)
    if flat.size and np.all(np.isfinite(flat)) and np.all(flat == np.round(flat)):
        return flat.astype(np.int64)
    return labels


def _named(
    shapes: Mapping[str, tuple[int, ...]], name: str | None, field: str, origin: str
) -> str | None:
    if name is not None and name not in shapes:
        raise DataError(
            f"{origin} has no variable '{name}' (data.source.{field}); "
            f"its variables are: {listing(list(shapes))}",
            f"set data.source.{field} to one of them",
        )
    return name


def _choose_x(
    shapes: Mapping[str, tuple[int, ...]], spec: DataSpec, origin: str, candidates: Sequence[str]
) -> str:
    if spec.x is not None:
        return str(_named(shapes, spec.x, "x", origin))
    present = [n for n in candidates if n in shapes]
    if len(present) == 1:
        return present[0]
    if not present:
        # No conventional name: a lone matrix (2-d, not a row or column vector, which would
        # be labels in a .mat file) is the only safe guess.
        present = [n for n, shape in shapes.items() if len(shape) == 2 and min(shape) > 1]
        if len(present) == 1:
            return present[0]
    seen = f"candidates: {listing(present)}" if present else f"variables: {listing(list(shapes))}"
    raise DataError(
        f"cannot tell which variable of {origin} holds the features ({seen})",
        "set data.source.x to the feature variable",
    )


def _choose_label(
    shapes: Mapping[str, tuple[int, ...]],
    spec: DataSpec,
    origin: str,
    x: str,
    candidates: Sequence[str],
) -> str | None:
    if spec.label is not None:
        name = _named(shapes, spec.label, "label", origin)
    else:
        paired = PAIRS.get(x)
        present = [n for n in candidates if n in shapes and n != x]
        if paired in shapes:
            name = paired
        elif len(present) > 1:
            raise DataError(
                f"cannot tell which variable of {origin} holds the labels "
                f"(candidates: {listing(present)})",
                "set data.source.label to the label variable",
            )
        else:
            name = present[0] if present else None
    if name is not None and sum(d > 1 for d in shapes[name]) > 1:
        raise DataError(
            f"labels '{name}' in {origin} have shape {shapes[name]}; expected a vector",
            "set data.source.label to a variable with one label per sample",
        )
    return name
