"""Shared fixtures: the data root, small planted files."""

from __future__ import annotations

from pathlib import Path

import pytest

from domainfit.paths import data_root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = data_root()
    if not (root / "SHA256SUMS").is_file():
        pytest.fail(f"shared data not found at {root}; set DOMAINFIT_DATA")
    return root


@pytest.fixture
def planted_csv(tmp_path: Path) -> Path:
    """20 rows with known problems: 2 exact duplicates, 1 near duplicate, 3 missing cells,
    1 missing label, and 2 test rows copied from train rows (via the split column)."""
    rows = ["id,text,score,label,part"]
    for i in range(14):
        rows.append(f"{i},review number {i} is here,{i}.5,{i % 2},train")
    rows.append("14,review number 1 is here,1.5,1,train")  # exact dup of row 2
    rows.append("15,review number 1 is here,1.5,1,train")  # another exact dup of row 2
    rows.append("16,REVIEW number 3 -- is here!,3.5,1,train")  # near dup of row 4 (text)
    rows.append("17,,7.0,0,val")  # missing text
    rows.append("18,review number 5 is here,5.5,,test")  # missing label; exact text of row 6
    rows.append("19,review number 6 is here,,0,test")  # missing score; text of row 7
    path = tmp_path / "planted.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
