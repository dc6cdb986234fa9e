"""Runs side by side: paired comparisons on the samples two runs share, and a leaderboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from domainfit.evaluate.bootstrap import Comparison, paired_comparison
from domainfit.report import fmt
from domainfit.report.runfolder import Predictions, RunFolder

LOWER_IS_BETTER = frozenset({"rmse", "mae", "mse", "loss", "log_loss", "ece"})


@dataclass
class Paired:
    """``run`` against ``baseline`` on the ``n`` samples of ``split`` both predicted."""

    run: str
    baseline: str
    split: str
    n: int
    comparison: Comparison
    scale: float  # 100 for accuracy (points), 1 for regression errors
    negated: bool = False  # the comparison scored -RMSE so that higher is better

    @property
    def sentence(self) -> str:
        return self.comparison.sentence(self.run, self.baseline, scale=self.scale)

    @property
    def values(self) -> tuple[str, str]:
        """Both runs' scores as the metric is usually read (an RMSE, not its negative)."""
        c, sign = self.comparison, (-1.0 if self.negated else 1.0)
        return fmt.num(sign * c.a), fmt.num(sign * c.b)

    @property
    def gain(self) -> str:
        """How much better the run is (+) or worse (-), in points for accuracy."""
        c, unit = self.comparison, (" pts" if self.scale == 100.0 else "")
        lo, hi = (self.scale * x for x in c.ci)
        return f"{self.scale * c.diff:+.2f}{unit} [{lo:+.2f}, {hi:+.2f}]"


def _neg_rmse(y: np.ndarray, pred: np.ndarray) -> float:
    # paired_comparison reads a positive difference as "a is better"
    return -float(np.sqrt(np.mean((np.asarray(y) - np.asarray(pred)) ** 2)))


def _aligned(
    run: RunFolder, base: RunFolder, split: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | str:
    """Labels and both runs' outputs on the ids both predicted, or why there are none."""
    a, b = run.predictions(split), base.predictions(split)
    if a is None or b is None:
        return "no usable predictions"
    if run.is_regression != base.is_regression:
        return "one run is a regression, the other is not"
    if not run.is_regression:
        if set(run.classes) != set(base.classes):
            return "the runs predict different classes"
        order = [base.classes.index(c) for c in run.classes]
        b = Predictions(b.ids, b.y, b.out[:, order])
    shared, ia, ib = np.intersect1d(a.ids, b.ids, assume_unique=False, return_indices=True)
    if len(shared) < 2:
        return "fewer than 2 shared sample ids"
    differ = int((a.y[ia] != b.y[ib]).sum())
    if differ:  # the same id names different samples: the runs saw different data
        return f"the runs' labels differ on {differ} of {len(shared)} shared ids"
    return a.y[ia], a.out[ia], b.out[ib]


def paired(run: RunFolder, base: RunFolder, name_a: str, name_b: str) -> list[Paired | str]:
    """One comparison per test split both runs predicted; a string says why one was skipped."""
    if not base.path.is_dir():
        return [f"{name_a} vs {name_b}: {base.path} is not a run folder"]
    splits = [s for s in run.prediction_splits() if s.endswith(".test")]
    theirs = base.prediction_splits()
    if not any(s in theirs for s in splits):
        return [f"{name_a} vs {name_b}: no test split has predictions from both"]
    out: list[Paired | str] = []
    for split in splits:
        if split not in theirs:
            out.append(f"{name_a} vs {name_b}: {name_b} has no predictions on {split}")
            continue
        got = _aligned(run, base, split)
        if isinstance(got, str):
            out.append(f"{name_a} vs {name_b} on {split}: {got}")
            continue
        y, pa, pb = got
        if run.is_regression:
            c = paired_comparison(y, pa, pb, _neg_rmse, name="RMSE")
            out.append(Paired(name_a, name_b, split, len(y), c, 1.0, negated=True))
        else:
            c = paired_comparison(y, pa, pb)
            out.append(Paired(name_a, name_b, split, len(y), c, 100.0))
    return out


@dataclass
class Entry:
    rank: int | None
    name: str
    run: RunFolder
    split: str | None
    value: float | None
    ci: list[float] | None

    def cells(self) -> dict[str, str]:
        r = self.run
        return {
            "rank": str(self.rank) if self.rank else "–",
            "run": self.name,
            "approach": r.approach,
            "split": self.split or fmt.NA,
            "headline": fmt.with_ci(self.value, self.ci),
            "seconds": fmt.seconds(r.seconds),
            "trained_params": fmt.count(r.trained_params),
        }


def leaderboard(runs: Sequence[RunFolder], names: Sequence[str] | None = None) -> list[Entry]:
    """Best first by each run's headline metric on its test split; unscored runs last."""
    entries = []
    for r, name in zip(runs, names or [r.name for r in runs], strict=True):
        value, ci = r.headline_value()
        entries.append(Entry(None, name, r, r.test_split, value, ci))
    scored = [e for e in entries if e.value is not None]

    def key(e: Entry) -> float:
        assert e.value is not None
        return e.value if e.run.headline in LOWER_IS_BETTER else -e.value

    scored.sort(key=key)
    for i, e in enumerate(scored, 1):
        e.rank = i
    return scored + [e for e in entries if e.value is None]


COLUMNS = {
    "rank": "#",
    "run": "run",
    "approach": "approach",
    "split": "test split",
    "headline": "{metric} [95% CI]",
    "seconds": "time",
    "trained_params": "trained params",
}


def markdown(
    entries: Sequence[Entry], metric: str, verdicts: Sequence[str] = (), reference: str = ""
) -> str:
    """The leaderboard as a GitHub markdown table, to paste into an issue, then each paired
    verdict against ``reference``: the ranking alone does not say which gaps are noise."""
    heads = [h.format(metric=metric) for h in COLUMNS.values()]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for e in entries:
        cells = [c.replace("|", "\\|") for c in e.cells().values()]
        lines.append("| " + " | ".join(cells) + " |")
    if verdicts:
        lines += ["", f"Against {reference}, paired on the test samples both predicted:", ""]
        lines += [f"- {v}" for v in verdicts]
    return "\n".join(lines) + "\n"


def verdicts(rows: Sequence[Paired | str]) -> list[str]:
    """One line per paired comparison (its significance verdict) or per skipped one."""
    return [r if isinstance(r, str) else f"{r.split} (n={r.n}): {r.sentence}" for r in rows]
