"""``rank``: score candidate pretrained models on the labelled training data before training.

Each candidate's features are extracted once (cached); then every applicable score and the
cost on this machine. The recommendation takes the best by ``rank.by`` and says why, and
whether a cheaper candidate is within that score's noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from domainfit.config import RunConfig
from domainfit.data.dataset import DomainDataset
from domainfit.errors import ConfigError
from domainfit.rank.candidates import Candidate, extract, parse_candidate
from domainfit.rank.cost import measure_cost
from domainfit.rank.held_out import ScoringRows, choose_rows
from domainfit.rank.scores import SCORES, SOURCE_SCORES

HIGHER_IS_BETTER = True  # every score here: larger means a better expected transfer


@dataclass
class Ranked:
    name: str
    scores: dict[str, float]
    cost: dict[str, Any]
    rank: int = 0
    # source vs target in this candidate's features (diagnose's domain_gap): pad, ratio
    gap: dict[str, float] = field(default_factory=dict)


@dataclass
class Ranking:
    by: str
    samples: int
    classes: int
    rows: list[Ranked]
    recommendation: str
    failed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    pool: str = "train"  # which source splits the scored rows came from
    target_samples: int = 0  # unlabelled target rows the gap was measured on

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "samples": self.samples,
            "classes": self.classes,
            "pool": self.pool,
            "target_samples": self.target_samples,
            "candidates": [
                {"rank": r.rank, "name": r.name, "scores": r.scores, "cost": r.cost, "gap": r.gap}
                for r in self.rows
            ],
            "recommendation": self.recommendation,
            "failed": self.failed,
            "warnings": self.warnings,
        }


@dataclass
class ScoringData:
    source: DomainDataset
    labels: np.ndarray  # class codes
    target: DomainDataset | None  # unlabelled target rows, for the domain gap
    held_out: ScoringRows


def _subsample(n: int, size: int, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    if n <= size:
        return np.arange(n)
    keep, _ = train_test_split(np.arange(n), train_size=size, stratify=labels, random_state=seed)
    return np.sort(keep)


def scoring_data(cfg: RunConfig, base_dir: Path | None, runs: dict[str, Path]) -> ScoringData:
    """The source's labelled training split (what fine-tuning will train on) less the rows any
    ``run:`` candidate trained on (see held_out), subsampled stratified to ``rank.max_samples``;
    and the target's rows, when there is a target, for the domain gap."""
    from domainfit.data.pipeline import clean_and_split, load_domains

    prepared = clean_and_split(load_domains(cfg, base_dir), cfg)
    if prepared.task == "regression":
        raise ConfigError("rank scores classification tasks", "set data.task=classification")
    held_out = choose_rows(prepared, runs)
    ds = prepared.clean["source"].subset(held_out.rows)
    labels = np.array([str(v) for v in ds.labels])  # type: ignore[union-attr]
    keep = _subsample(len(ds), cfg.rank.max_samples, cfg.seed, labels)
    ds, labels = ds.subset(keep), labels[keep]
    _, codes = np.unique(labels, return_inverse=True)
    target = prepared.clean.get("target")
    if target is not None:
        target = target.subset(_subsample(len(target), cfg.rank.max_samples, cfg.seed))
    return ScoringData(ds, codes, target, held_out)


def rank_candidates(cfg: RunConfig, base_dir: Path | None) -> Ranking:
    from domainfit.progress import track

    if not cfg.rank.candidates:
        raise ConfigError("rank has no candidates", "list them under rank.candidates")
    if cfg.model is None:
        raise ConfigError("rank needs a model section (its input settings)", "set model")
    candidates = [parse_candidate(c) for c in cfg.rank.candidates]
    data = scoring_data(cfg, base_dir, {c.name: c.run for c in candidates if c.run is not None})
    rows, failed = [], {}
    for cand in track(candidates, "rank candidates", unit="candidate"):
        try:
            rows.append(_score(cand, data, cfg))
        except ConfigError as err:
            failed[cand.name] = str(err)
    if not rows:
        raise ConfigError(
            "no rank candidate could be scored: " + "; ".join(failed.values()),
            "fix the candidates' specs",
        )
    by = cfg.rank.by
    scored = [r for r in rows if by in r.scores]
    if not scored:
        raise ConfigError(
            f"rank.by={by} applies to none of the candidates (leep and nce need run: ones)",
            "use rank.by: logme",
        )
    order = sorted(scored, key=lambda r: -r.scores[by]) + [r for r in rows if by not in r.scores]
    for i, r in enumerate(order, 1):
        r.rank = i
    y, seen = data.labels, data.held_out.seen
    fair = [r for r in order if r.name not in seen and by in r.scores]
    return Ranking(
        by,
        len(y),
        int(y.max()) + 1,
        order,
        recommend(fair, by) if fair else "none: every candidate was trained on the scored rows",
        failed,
        data.held_out.warnings,
        data.held_out.pool,
        0 if data.target is None else len(data.target),
    )


def _score(cand: Candidate, data: ScoringData, cfg: RunConfig) -> Ranked:
    y = data.labels
    got = extract(cand, data.source, cfg, data.target)
    scores = {name: float(fn(got.features, y)) for name, fn in SCORES.items()}
    if got.source_probs is not None:
        scores.update({n: float(fn(got.source_probs, y)) for n, fn in SOURCE_SCORES.items()})
    cost = measure_cost(
        got.encoder, got.encoded, cfg.train.batch_size, len(y), cfg.train.epochs
    ).to_dict()
    cost["feature_dim"] = int(got.features.shape[1])
    gap: dict[str, float] = {}
    if got.target_features is not None:
        from domainfit.diagnose.shift_stats import domain_gap

        try:
            g = domain_gap(got.features, got.target_features, seed=cfg.seed)
            gap = {"pad": g.pad, "pad_within": g.pad_within, "ratio": g.ratio}
        except ValueError:  # too few rows on a side to measure it
            gap = {}
    return Ranked(cand.name, scores, cost, gap=gap)


def recommend(order: list[Ranked], by: str) -> str:
    best = order[0]
    why = f"{best.name}: the highest {by} ({best.scores[by]:.4g})"
    probe = best.scores.get("linear_probe")
    if probe is not None:
        why += f", linear-probe CV accuracy {probe:.1%}"
    why += f"; fine-tuning it here takes about {best.cost['finetune_minutes']:.1f} min"
    if len(order) > 1 and by in order[1].scores:
        second = order[1]
        why += f". Runner-up {second.name} ({by} {second.scores[by]:.4g})"
        # two candidates whose probes agree within 1 point are not told apart by the data
        close = (
            probe is not None
            and "linear_probe" in second.scores
            and abs(second.scores["linear_probe"] - probe) < 0.01
        )
        cheaper = second.cost["finetune_minutes"] < 0.5 * best.cost["finetune_minutes"]
        if close and cheaper:
            why += (
                f" probes within a point of it at under half the cost "
                f"({second.cost['finetune_minutes']:.1f} min): consider it when time matters"
            )
    return why + "."
