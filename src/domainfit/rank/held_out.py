"""Which labelled rows ``rank`` may score candidates on.

Transfer scores (LogME, H-score, probe and k-NN accuracy) estimate how well a candidate's
features fit labels it has not been trained on. A ``run:`` candidate fine-tuned on the very
rows being scored has memorised them: its probe on its own training data read 92.7 % and it
was recommended. So rows any candidate trained on (matched by content, not by id: another
config may give the same review another id) are left out for every candidate, keeping the
comparison fair. The pool is the source's training split, then its validation and test
splits when too few training rows are left. When even those are too few, everything is
scored and the candidates that saw rows are named and never recommended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from domainfit.data.dataset import DomainDataset
from domainfit.data.pipeline import PreparedData
from domainfit.data.row_keys import exact_keys

MIN_PER_CLASS = 5  # a 5-fold probe needs that many of each class
MIN_ROWS = 30


@dataclass
class ScoringRows:
    rows: np.ndarray  # indices into the clean source
    seen: dict[str, int] = field(default_factory=dict)  # candidate -> scored rows it trained on
    excluded: int = 0  # rows left out because a candidate trained on them
    pool: str = "train"  # train, or train+val+test
    warnings: list[str] = field(default_factory=list)


def trained_keys(run_dir: Path) -> set[str]:
    """Content keys of the labelled rows a finished run trained on (its config, replayed)."""
    from domainfit.config_io import load_config
    from domainfit.data.pipeline import clean_and_split, load_domains

    cfg = load_config(run_dir / "config.yaml")
    prepared = clean_and_split(load_domains(cfg, None), cfg)
    train = prepared.clean["source"].subset(prepared.folds["source"][0]["train"])
    keys = {k for k in exact_keys(train) if k is not None}
    if len(prepared.labelled_target):  # a few labelled target rows trained it too
        target = prepared.clean["target"].subset(prepared.labelled_target)
        keys |= {k for k in exact_keys(target) if k is not None}
    return keys


def _enough(labels: np.ndarray) -> bool:
    if len(labels) < MIN_ROWS:
        return False
    _, counts = np.unique(labels, return_counts=True)
    return bool(counts.min() >= MIN_PER_CLASS) and len(counts) >= 2


def choose_rows(prepared: PreparedData, runs: dict[str, Path]) -> ScoringRows:
    """Rows of ``prepared.clean["source"]`` to score on, given the ``run:`` candidates."""
    ds: DomainDataset = prepared.clean["source"]
    fold = prepared.folds["source"][0]
    train = np.asarray(fold["train"])
    if not runs:
        return ScoringRows(train)
    keys = np.array([k or "" for k in exact_keys(ds)], dtype=object)
    seen_by = {name: trained_keys(folder) for name, folder in runs.items()}
    seen_any = np.zeros(len(ds), dtype=bool)
    for seen in seen_by.values():
        seen_any |= np.array([k in seen for k in keys])
    labels = np.array([str(v) for v in ds.labels])  # type: ignore[union-attr]
    everything = np.concatenate([train, fold["val"], fold["test"]]).astype(int)
    for pool, rows in (("train", train), ("train+val+test", everything)):
        fresh = rows[~seen_any[rows]]
        if _enough(labels[fresh]):
            left_out = int(seen_any[rows].sum())
            out = ScoringRows(np.sort(fresh), excluded=left_out, pool=pool)
            if left_out:
                names = ", ".join(n for n, s in seen_by.items() if s)
                out.warnings.append(
                    f"{names} trained on {left_out} of the {len(rows)} labelled source rows: "
                    f"every candidate is scored on the {len(fresh)} rows none of them saw"
                )
            return out
    # too few unseen rows: score all, say who saw them, and keep them out of the recommendation
    out = ScoringRows(np.sort(everything), pool="train+val+test")
    for name, seen in seen_by.items():
        count = int(np.isin(keys[everything], list(seen)).sum())
        if count:
            out.seen[name] = count
            out.warnings.append(
                f"{name} trained on {count} of the {len(everything)} rows it is scored on "
                "(too few others to hold out): its scores are optimistic and it is not "
                "recommended"
            )
    return out
