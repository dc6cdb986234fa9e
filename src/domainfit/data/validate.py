"""Strict checks before anything trains: the audit reports problems, these refuse them."""

from __future__ import annotations

from domainfit.data.audit_checks import class_counts
from domainfit.data.dataset import DomainDataset
from domainfit.data.label_search import no_labels_error
from domainfit.data.pipeline import PreparedData
from domainfit.errors import DataError


def check_trainable(prepared: PreparedData) -> None:
    src = prepared.clean["source"]
    for ds in prepared.clean.values():
        _no_corrupt_files(ds)
        _no_empty_columns(ds)
    if not src.has_labels:
        raise no_labels_error(src)  # names the columns looked for and those there are
    if prepared.task == "classification":
        counts = class_counts(src)
        if len(counts) < 2:
            only = next(iter(counts), "?")
            raise DataError(
                f"the labels of {src.domain} hold a single class ('{only}'); "
                "classification needs at least two",
                "check data.source.label or add samples of other classes",
            )


def _no_corrupt_files(ds: DomainDataset) -> None:
    if ds.problems:
        p = ds.problems[0]
        raise DataError(
            f"{len(ds.problems)} unreadable file(s) in {ds.domain}, first {p.item} ({p.reason})",
            "set clean.drop_corrupt=true to skip them, or fix the files",
        )


def _no_empty_columns(ds: DomainDataset) -> None:
    if ds.kind != "tabular":
        return
    empty = [str(c) for c in ds.inputs.columns if ds.inputs[c].isna().all()]
    if empty:
        raise DataError(
            f"column '{empty[0]}' of {ds.domain} is entirely missing",
            f"add it to data.source.drop_columns (all empty: {', '.join(empty)})",
        )
