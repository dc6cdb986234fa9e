"""``split_leakage``: evaluation samples that repeat samples training used, by what it used.

Leakage is a sample training learnt *with its label* showing up in an evaluation split. The
audit counts exact repeats between parts (train/val/test of each domain, source and target),
but a target's ``train`` part is mostly the unlabelled pool adaptation reads, and under
``adapt.protocol: transductive`` that pool *is* the test set by design (the JDA/DANN benchmark
protocol). So the target is re-counted here by role:

- a target val/test sample repeating a labelled target training sample (``data.target_labels``):
  leakage, graded like any other;
- one repeating an unlabelled pool sample: under ``transductive`` expected and not reported;
  under ``inductive`` reported at low severity, and only when something reads the pool
  (adaptation, or augmentations that borrow the target's style): it saw the inputs, never the
  labels;
- source samples repeated in the target (the audit's cross-domain count): leakage under both
  protocols, since every target sample a test may score was then trained on with its label.

Fixes are checked against the config: ``clean.drop_duplicates`` is suggested only when off,
and never for repeats across domains, which it cannot remove (it works within each domain);
those get ``clean.drop_cross_domain``, which drops the repeated rows from the source and keeps
the target whole (the audit then counts on the cleaned domains).
"""

from __future__ import annotations

from typing import Any

from domainfit.config import RunConfig
from domainfit.data.audit import AuditReport
from domainfit.data.pipeline import PreparedData
from domainfit.diagnose.advice import Suggestion, advise, as_dict, equals, setting
from domainfit.diagnose.findings import Finding, Severity, grade


def leakage(report: AuditReport, prepared: PreparedData, cfg: RunConfig) -> list[Finding]:
    target = prepared.clean.get("target")
    recounted = target.domain if target is not None else None
    out = []
    for item in report.items:
        if not item.check.startswith("leakage_") or item.count == 0:
            continue
        earlier, later = item.check.removeprefix("leakage_").split("_", 1)
        if item.domain == recounted and earlier == "train":
            continue  # by role below: the audit cannot tell the unlabelled pool from training
        across = earlier == "source"
        n_later = _part_size(prepared, item.domain, later)
        share = item.count / max(1, n_later)
        title = f"{item.count} {item.detail} in {item.domain} ({share:.1%} of {later})"
        if across and cfg.adapt.protocol == "transductive":
            title += ": under the transductive protocol the target is the test set"
        out.append(
            _finding(
                title,
                share,
                _grade(share),
                {"pair": f"{earlier}_{later}", "count": item.count, "share": round(share, 4)},
                _across_fix(cfg) if across else _within_fix(cfg, "source"),
                item.domain,
                item.examples,
            )
        )
    if target is not None:
        out += _target(prepared, cfg)
    return out


def _grade(share: float) -> Severity:
    # any exact repeat in an evaluation set inflates its score; many make it meaningless
    sev = grade(share, medium=0.01, high=0.05, low=0.0)
    assert sev is not None
    return sev


def _finding(
    title: str,
    share: float,
    sev: Severity,
    evidence: dict[str, Any],
    fix: str,
    domain: str,
    examples: list[str],
) -> Finding:
    return Finding(
        "split_leakage", sev, title, evidence, fix, score=share, domain=domain, examples=examples
    )


def _within_fix(cfg: RunConfig, role: str) -> str:
    settings = as_dict(cfg)
    grouped = f"data.{role}.group"  # split.method auto splits by it when set
    return advise(
        settings,
        [
            Suggestion(
                "clean.drop_duplicates: true (removes exact repeats before the split)",
                "clean.drop_duplicates",
                equals(True),
            ),
            Suggestion(
                f"split.method: group with data.{role}.group naming what repeats (a user, a "
                "product, a source file)",
                "split.method",
                lambda v: v == "group" or (v == "auto" and bool(setting(settings, grouped))),
            ),
        ],
        # both on and still repeated: the grouping column does not follow the repeats
        f"clean.drop_duplicates and split.method: group are on, yet samples repeat across "
        f"the split: data.{role}.group does not name what repeats; group by the column that "
        "does (a user, a product, a source file)",
    )


def _across_fix(cfg: RunConfig) -> str:
    return advise(
        as_dict(cfg),
        [
            Suggestion(
                "clean.drop_cross_domain: true (drops the source rows that repeat a target row "
                "before the split, keeping the target whole; the repeats are across domains, "
                "which clean.drop_duplicates, within each domain, cannot remove)",
                "clean.drop_cross_domain",
                equals(True),
            )
        ],
        # not expected: the audit counts on the domains it cleaned
        "clean.drop_cross_domain is on, yet source rows repeat in the target: drop the listed "
        "rows from data.source's file by hand",
    )


def _target(prepared: PreparedData, cfg: RunConfig) -> list[Finding]:
    """The target's val/test samples that repeat a labelled target training sample, or (under
    the inductive protocol, with a reader of the pool) an unlabelled pool sample."""
    from domainfit.data.row_keys import exact_keys

    ds = prepared.clean["target"]
    folds = prepared.folds.get("target") or []
    keys = exact_keys(ds)
    labelled = {int(i) for i in prepared.labelled_target}
    report_pool = cfg.adapt.protocol == "inductive" and _reads_pool(cfg)
    limit = cfg.audit.max_examples
    out = []
    for later in ("val", "test"):
        found: dict[str, list[str]] = {"labelled": [], "pool": []}
        for fold in folds:
            first: dict[str, dict[str, int]] = {"labelled": {}, "pool": {}}
            for i in fold["train"]:
                kind = "labelled" if int(i) in labelled else "pool"
                key = keys[i]
                if key is not None:
                    first[kind].setdefault(key, int(i))
            for j in fold[later]:
                k = keys[j]
                for kind in ("labelled", "pool"):
                    if k is not None and k in first[kind] and first[kind][k] != int(j):
                        found[kind].append(f"{later} {ds.ids[j]} = {ds.ids[first[kind][k]]}")
                        break
        n_later = sum(len(f[later]) for f in folds)
        for kind, rows in found.items():
            if not rows or (kind == "pool" and not report_pool):
                continue
            share = len(rows) / max(1, n_later)
            evidence = {"pair": f"train_{later}", "count": len(rows), "share": round(share, 4)}
            if kind == "labelled":
                title = (
                    f"{len(rows)} target {later} samples repeat a labelled target training "
                    f"sample (data.target_labels) in {ds.domain} ({share:.1%} of {later})"
                )
                out.append(
                    _finding(
                        title,
                        share,
                        _grade(share),
                        evidence,
                        _within_fix(cfg, "target"),
                        ds.domain,
                        rows[:limit],
                    )
                )
            else:
                title = (
                    f"{len(rows)} target {later} samples repeat a sample of the unlabelled "
                    f"target pool in {ds.domain} ({share:.1%} of {later}): adaptation saw "
                    "their inputs, not their labels"
                )
                out.append(
                    _finding(
                        title,
                        share * 0.1,  # inputs without labels: ranks below any labelled leak
                        "low",
                        {**evidence, "unlabelled": True},
                        _within_fix(cfg, "target"),
                        ds.domain,
                        rows[:limit],
                    )
                )
    return out


def _reads_pool(cfg: RunConfig) -> bool:
    """Adaptation, or augmentations that borrow the target's images, read the pool."""
    if cfg.adapt.enabled:
        return True
    from domainfit.augment.pipeline import DOMAIN_OPS

    return any(op.op in DOMAIN_OPS for op in cfg.augment)


def _part_size(prepared: PreparedData, domain: str, part: str) -> int:
    for role, ds in prepared.clean.items():
        if ds.domain == domain and role in prepared.folds:
            return sum(len(f[part]) for f in prepared.folds[role])
    for ds in prepared.clean.values():
        if ds.domain.startswith(domain) or domain.endswith(ds.domain):
            return len(ds)
    return 0
