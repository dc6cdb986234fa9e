"""Load every domain of a run, clean it, and split it: the data half of the flow."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from domainfit.config import RunConfig, SplitConfig
from domainfit.data.clean import CleanAction, clean_domain
from domainfit.data.dataset import DomainDataset
from domainfit.data.load import load_domain
from domainfit.data.row_keys import exact_keys
from domainfit.data.split import Fold, make_splits
from domainfit.data.target_split import labelled_target, transductive_fold
from domainfit.data.task import Task, infer_task

ROLES = ("source", "target")


@dataclass
class PreparedData:
    raw: dict[str, DomainDataset]
    clean: dict[str, DomainDataset] = field(default_factory=dict)
    folds: dict[str, list[Fold]] = field(default_factory=dict)
    cleaning: list[CleanAction] = field(default_factory=list)
    task: Task | None = None
    # target samples whose labels training may use (data.target_labels), indices into clean
    labelled_target: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))

    def fold(self, i: int) -> PreparedData:
        """This data with fold ``i`` as its only split (roles with fewer folds keep their
        first), so everything that reads ``folds[role][0]`` works on one k-fold fold."""
        folds = {role: [f[i] if i < len(f) else f[0]] for role, f in self.folds.items()}
        return PreparedData(
            self.raw, self.clean, folds, self.cleaning, self.task, self.labelled_target
        )


def load_domains(
    cfg: RunConfig,
    base_dir: Path | None = None,
    given: dict[str, DomainDataset] | None = None,
) -> dict[str, DomainDataset]:
    """Datasets given in memory win over the config's specs for their role."""
    out: dict[str, DomainDataset] = dict(given or {})
    specs = {"source": cfg.data.source, "target": cfg.data.target}
    for role in ROLES:
        if role not in out and specs[role] is not None:
            out[role] = load_domain(specs[role], base_dir)  # type: ignore[arg-type]
    if "source" in out and "target" in out and out["source"].domain == out["target"].domain:
        out["target"].domain = f"{out['target'].domain} (target)"
    return out


def clean_and_split(raw: dict[str, DomainDataset], cfg: RunConfig) -> PreparedData:
    task = infer_task(raw["source"], cfg.data.task)
    prepared = PreparedData(raw=raw, task=task)
    for role, ds in raw.items():
        if cfg.data.limit is not None and len(ds) > cfg.data.limit:
            ds = _limit(ds, cfg.data.limit, cfg.seed)
            prepared.cleaning.append(
                CleanAction(ds.domain, "limit", len(raw[role]) - len(ds), f"kept {len(ds)}")
            )
        cleaned, log = clean_domain(ds, cfg.clean, cfg.audit, labelled_role=role == "source")
        prepared.clean[role] = cleaned
        prepared.cleaning.extend(log)
    if cfg.clean.drop_cross_domain and "target" in prepared.clean:
        source, action = drop_cross_domain(prepared.clean["source"], prepared.clean["target"])
        prepared.clean["source"] = source
        prepared.cleaning.append(action)
    for role, cleaned in prepared.clean.items():
        if role == "target" and cfg.adapt.protocol == "transductive":
            prepared.folds[role] = [transductive_fold(len(cleaned))]
        else:
            prepared.folds[role] = make_splits(cleaned, _split_for(cleaned, cfg, role), task)
    if "target" in prepared.clean:
        target = prepared.clean["target"]
        first = prepared.folds["target"][0]
        prepared.labelled_target = labelled_target(target, first, cfg)
        if cfg.adapt.protocol == "transductive" and len(prepared.labelled_target):
            # the labelled few are training data, not test data
            first["test"] = np.setdiff1d(first["test"], prepared.labelled_target)
    return prepared


def drop_cross_domain(
    source: DomainDataset, target: DomainDataset
) -> tuple[DomainDataset, CleanAction]:
    """The source without the rows that repeat a target row exactly. The target is the domain
    the run is judged on, so it stays whole: a shared row is trained on with its label
    otherwise, and every test that scores it is inflated."""
    if source.kind != target.kind:  # nothing can be equal between kinds
        return source, CleanAction(source.domain, "drop_cross_domain", 0, "repeats of a target row")
    in_target = {k for k in exact_keys(target) if k is not None}
    repeats = np.array([k is not None and k in in_target for k in exact_keys(source)], dtype=bool)
    action = CleanAction(
        source.domain, "drop_cross_domain", int(repeats.sum()), f"repeats of a {target.domain} row"
    )
    return (source.subset(np.flatnonzero(~repeats)) if repeats.any() else source), action


def _split_for(ds: DomainDataset, cfg: RunConfig, role: str) -> SplitConfig:
    """An unlabelled target cannot be stratified by label: it is split at random instead
    (the source's split stays as configured; there a missing label is the user's to fix)."""
    unlabelled = ds.labels is None or bool(ds.missing_labels().all())
    if role == "target" and unlabelled and cfg.split.method in ("auto", "stratified"):
        return cfg.split.model_copy(update={"method": "random"})
    return cfg.split


def _limit(ds: DomainDataset, n: int, seed: int) -> DomainDataset:
    """A seeded subsample, stratified by label when every sample has one."""
    idx = np.arange(len(ds))
    labels = ds.labels if ds.labels is not None and not ds.missing_labels().any() else None
    strata = None if labels is None else np.array([str(v) for v in labels])
    try:
        keep, _ = train_test_split(idx, train_size=n, stratify=strata, random_state=seed)
    except ValueError:  # a class too small to stratify
        keep, _ = train_test_split(idx, train_size=n, random_state=seed)
    return ds.subset(np.sort(keep))
