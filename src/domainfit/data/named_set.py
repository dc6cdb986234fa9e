"""What a named data set is, and the fixes its errors suggest; shared by the set readers.

Kept apart from ``benchmarks`` (the table of names) so that reader modules such as
``image_sets`` can declare their sets without importing the table that imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from domainfit.data.dataset import DomainDataset, Kind
from domainfit.paths import ENV_VAR

SUMS_FILE = "SHA256SUMS"
ROOT_FIX = f"set {ENV_VAR} to the folder holding the shared data sets"
RESTORE_FIX = (
    "restore the file from the shared data (PROVENANCE.md says where it comes from) "
    f"or set {ENV_VAR} to an intact copy"
)
SUMS_FIX = f"restore {SUMS_FILE} from the shared data or set {ENV_VAR} to an intact copy"


@dataclass(frozen=True)
class NamedSet:
    """One named data set: its files (relative to the data root) and how to read them.

    An entry of ``files`` ending in "/" is a folder: it stands for every file that SHA256SUMS
    lists under it, sorted, so files lying in the folder without a checksum are never read.
    ``read`` gets the verified absolute paths in that order.
    """

    name: str
    files: tuple[str, ...]
    domain: str
    kind: Kind
    description: str
    read: Callable[[NamedSet, list[Path]], DomainDataset]
