"""Say where labels were looked for when none were found.

A file without a recognisable label column loads as unlabelled data, which is right for a target
domain, but an audit of it used to look clean and ``fit`` said only "no labels": neither named
the names tried nor the columns the file does have, the two facts needed to set
``data.source.label``. Loaders record both in ``meta`` (see :func:`note_no_labels`).
"""

from __future__ import annotations

from collections.abc import Sequence

from domainfit.data.audit_checks import AuditItem
from domainfit.data.dataset import DomainDataset
from domainfit.errors import DataError

KEY = "label_search"
CHECK = "no_label_column"
_SHOWN = 20  # names listed; a 5000-column table lists its first ones and a count


def note_no_labels(
    ds: DomainDataset, looked_for: Sequence[str], available: Sequence[str], what: str
) -> DomainDataset:
    """Record on a dataset loaded without labels the names tried and those the file has;
    ``what``: "column" or "variable"."""
    ds.meta[KEY] = {"looked_for": list(looked_for), "available": list(available), "what": what}
    return ds


def note_no_label_variable(
    ds: DomainDataset, x: str, label_names: Sequence[str], variables: Sequence[str]
) -> DomainDataset:
    """The same for an array file (.npz, .mat): the feature variable's partner (``X``->``Y``)
    and the conventional names were tried."""
    from domainfit.data.sources.variables import PAIRS

    tried = list(dict.fromkeys([*([PAIRS[x]] if x in PAIRS else []), *label_names]))
    return note_no_labels(ds, tried, sorted(v for v in variables if v != x), "variable")


def _names(names: list[str]) -> str:
    if not names:
        return "(none)"
    shown = ", ".join(names[:_SHOWN])
    return shown if len(names) <= _SHOWN else f"{shown} and {len(names) - _SHOWN} more"


def problem(ds: DomainDataset) -> str | None:
    """The line "no label column in FILE: looked for 'label'; columns are: a, b"; None when
    labelled, or when the loader recorded nothing."""
    found = ds.meta.get(KEY)
    if ds.has_labels or not isinstance(found, dict):
        return None
    what = str(found.get("what", "column"))
    tried = " or ".join(f"'{n}'" for n in found.get("looked_for", [])) or "nothing"
    return (
        f"no label {what} in {ds.origin}: looked for {tried}; "
        f"{what}s are: {_names([str(n) for n in found.get('available', [])])}"
    )


def fix(ds: DomainDataset) -> str:
    what = str(ds.meta.get(KEY, {}).get("what", "column"))
    return f"set data.source.label to the label {what}"


def audit_item(role: str, ds: DomainDataset) -> AuditItem | None:
    """A finding for a source without labels; a target may be unlabelled by design."""
    line = problem(ds)
    if role != "source" or line is None:
        return None
    return AuditItem(ds.domain, CHECK, 1, f"{line}; {fix(ds)}")


def no_labels_error(ds: DomainDataset) -> DataError:
    """What ``fit`` says of a source it cannot train on for want of labels."""
    line = problem(ds)
    if line is None:
        return DataError(
            f"the source domain {ds.domain} has no labels ({ds.origin})",
            "set data.source.label to the label column",
        )
    return DataError(f"the source domain {ds.domain} has no labels: {line}", fix(ds))
