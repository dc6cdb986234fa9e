"""The audit: data problems with exact counts, before and after cleaning and splitting."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from domainfit.config import RunConfig
from domainfit.data import audit_checks as checks
from domainfit.data import label_search
from domainfit.data.audit_checks import AuditItem
from domainfit.data.clean import CleanAction
from domainfit.data.dataset import DomainDataset
from domainfit.data.pipeline import PreparedData
from domainfit.data.row_keys import exact_keys, near_keys, near_keys_joint
from domainfit.data.split import PARTS, Fold


@dataclass
class DomainSummary:
    role: str
    domain: str
    kind: str
    origin: str
    samples: int
    features: int | None
    classes: int | None


@dataclass
class AuditReport:
    domains: list[DomainSummary]
    items: list[AuditItem]
    cleaning: list[CleanAction] = field(default_factory=list)
    splits: dict[str, list[dict[str, int]]] = field(default_factory=dict)
    task: str | None = None

    def get(self, domain: str, check: str) -> AuditItem:
        for item in self.items:
            if item.domain == domain and item.check == check:
                return item
        raise KeyError(f"no audit item {check!r} for {domain!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "domains": [asdict(d) for d in self.domains],
            "items": [asdict(i) for i in self.items],
            "cleaning": [c.to_dict() for c in self.cleaning],
            "splits": self.splits,
        }


def audit_domain(ds: DomainDataset, cfg: RunConfig) -> list[AuditItem]:
    exact, near = exact_keys(ds), near_keys(ds, cfg.audit.near_duplicate_decimals)
    items = checks.duplicate_items(ds, exact, near, cfg.audit)
    items += checks.missing_items(ds, cfg.audit)
    items.append(checks.constant_item(ds, cfg.audit))
    if ds.kind == "image":
        items.append(checks.corrupt_item(ds, cfg.audit))
    outliers = checks.outlier_item(ds, cfg.audit)
    if outliers is not None:
        items.append(outliers)
    items += checks.class_items(ds, cfg.audit)
    return items


def audit_prepared(prepared: PreparedData, cfg: RunConfig) -> AuditReport:
    items: list[AuditItem] = []
    summaries = []
    for role, ds in prepared.raw.items():
        unlabelled = label_search.audit_item(role, ds)  # first: it decides what can train
        items += ([unlabelled] if unlabelled else []) + audit_domain(ds, cfg)
        summaries.append(_summary(role, ds))
    if "target" in prepared.raw:
        # what training and evaluation use: the cleaned domains (clean.drop_cross_domain, a
        # data.limit or drop_duplicates remove rows that then leak nothing)
        sets = prepared.clean if "target" in prepared.clean else prepared.raw
        items += _cross_domain(sets["source"], sets["target"], cfg)
    splits: dict[str, list[dict[str, int]]] = {}
    for role, folds in prepared.folds.items():
        ds = prepared.clean[role]
        items += _leakage(ds, folds, cfg)
        splits[ds.domain] = [{p: len(f[p]) for p in PARTS} for f in folds]
    return AuditReport(summaries, items, prepared.cleaning, splits, prepared.task)


def _summary(role: str, ds: DomainDataset) -> DomainSummary:
    features = None
    if ds.kind in ("tabular", "features"):
        features = int(ds.inputs.shape[1])
    counts = checks.class_counts(ds)
    return DomainSummary(
        role, ds.domain, ds.kind, ds.origin, len(ds), features, len(counts) or None
    )


def _cross_domain(src: DomainDataset, tgt: DomainDataset, cfg: RunConfig) -> list[AuditItem]:
    name = f"{src.domain}→{tgt.domain}"
    items = []
    src_classes, tgt_classes = set(checks.class_counts(src)), set(checks.class_counts(tgt))
    if tgt_classes:
        only = sorted(tgt_classes - src_classes)
        items.append(AuditItem(name, "labels_only_in_target", len(only), ", ".join(only), [], {}))
    decimals = cfg.audit.near_duplicate_decimals
    if src.kind == tgt.kind:
        near_src, near_tgt = near_keys_joint([src, tgt], decimals)
        exact, near = _overlap((exact_keys(src), near_src), (exact_keys(tgt), near_tgt))
        items += _leak_items(name, "source", "target", src, tgt, exact, near, cfg)
    return items


def _overlap(
    a: tuple[list[str | None], list[str | None]], b: tuple[list[str | None], list[str | None]]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Pairs (j in b, i in a) where b's sample repeats a's exactly, or only nearly."""
    first_exact = _first_positions(a[0])
    first_near = _first_positions(a[1])
    exact, near = [], []
    for j, (ke, kn) in enumerate(zip(b[0], b[1], strict=True)):
        if ke is not None and ke in first_exact:
            exact.append((j, first_exact[ke]))
        elif kn is not None and kn in first_near:
            near.append((j, first_near[kn]))
    return exact, near


def _first_positions(keys: list[str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k is not None and k not in out:
            out[k] = i
    return out


def _leak_items(
    name: str,
    earlier: str,
    later: str,
    a: DomainDataset,
    b: DomainDataset,
    exact: list[tuple[int, int]],
    near: list[tuple[int, int]],
    cfg: RunConfig,
) -> list[AuditItem]:
    def examples(pairs: list[tuple[int, int]]) -> list[str]:
        limit = cfg.audit.max_examples
        return [f"{later} {b.ids[j]} = {earlier} {a.ids[i]}" for j, i in pairs[:limit]]

    what = f"{later} samples that repeat a {earlier} sample"
    return [
        AuditItem(
            name, f"leakage_{earlier}_{later}", len(exact), f"{what} exactly", examples(exact)
        ),
        AuditItem(
            name,
            f"near_leakage_{earlier}_{later}",
            len(near),
            f"{what} nearly (beyond exact)",
            examples(near),
        ),
    ]


def _leakage(ds: DomainDataset, folds: list[Fold], cfg: RunConfig) -> list[AuditItem]:
    """Samples of a later part repeating one of an earlier part, summed over folds."""
    exact_all, near_all = exact_keys(ds), near_keys(ds, cfg.audit.near_duplicate_decimals)
    limit = cfg.audit.max_examples
    items = []
    for earlier, later in (("train", "val"), ("train", "test"), ("val", "test")):
        found: dict[str, list[str]] = {"exact": [], "near": []}
        for k, fold in enumerate(folds):
            ia, ib = fold[earlier], fold[later]
            if len(ia) == 0 or len(ib) == 0:
                continue
            tag = "" if len(folds) == 1 else f"fold {k} "
            exact, near = _overlap(
                ([exact_all[i] for i in ia], [near_all[i] for i in ia]),
                ([exact_all[i] for i in ib], [near_all[i] for i in ib]),
            )
            for kind, pairs in (("exact", exact), ("near", near)):
                found[kind] += [
                    f"{tag}{later} {ds.ids[ib[j]]} = {earlier} {ds.ids[ia[i]]}" for j, i in pairs
                ]
        what = f"{later} samples that repeat a {earlier} sample"
        for kind, prefix, how in (("exact", "", "exactly"), ("near", "near_", "nearly")):
            items.append(
                AuditItem(
                    ds.domain,
                    f"{prefix}leakage_{earlier}_{later}",
                    len(found[kind]),
                    f"{what} {how}" + (" (beyond exact)" if kind == "near" else ""),
                    found[kind][:limit],
                )
            )
    return items
