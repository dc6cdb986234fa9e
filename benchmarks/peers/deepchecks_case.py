"""Deepchecks' tabular suites on one train/test case, what they found written as JSON.

Run by the deepchecks peer venv's python, never the main venv (deepchecks 0.19.1 needs an older
numpy/pandas/scikit-learn than domainfit pins; see requirements.py)::

    python deepchecks_case.py IN.npz OUT.json [--outlier-timeout SECONDS]

IN.npz: ``train_x`` (n, d) float, ``train_y`` (n,) int, ``test_x``, ``test_y`` (all -1: the test
set is unlabelled, so it gets no label column). NaNs in x are planted missing values.

Every check of ``data_integrity()`` (on train) and ``train_test_validation()`` (on train, test) runs
with the suite's own arguments and conditions, one check at a time rather than ``suite.run()`` so
each gets its own time and its error is recorded instead of being folded into the suite's. Two
checks outside both suites are added with their own default conditions: Class Imbalance and
Percent Of Nulls. Outlier Sample Detection carries no condition in the suite; its own default
condition (ratio of samples with LoOP score > 0.7 at most 0.5%) is added so it can pass or fail.

Row indices (``rows``: 0-based positions in train_x, or in test_x where ``rows_of`` is "test")
are given for the checks about samples: Conflicting Labels reports them itself; Outlier Sample
Detection's are read from the LoOP scores it computes; Data Duplicates and Train Test Samples Mix
only show a few example groups, so theirs are recomputed with the check's own grouping rule (all
columns, label included, NaN equal to NaN). ``rows_source`` says which.

Known quirks of 0.19.1, kept as they are: Class Imbalance's condition is inverted (WARN when the
least/most frequent ratio is >= 0.1, i.e. balanced), so read ``least_to_most_ratio``; Multivariate
Drift skips its feature importance (``top_features`` empty) when projected over 120 s, as it is
from a few hundred features on. Full run on 2000+2000 rows on 2 cores: about 80 s at 384
features, 4.5 to 6 min at 1280 (Outlier Sample Detection and the two PPS checks take most of it).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

LABEL = "label"
OUTLIER_SCORE = 0.7  # OutlierSampleDetection's default condition threshold


def _plain(value: Any, limit: int = 2000) -> Any:
    """JSON-safe copy of a check value; NaN/inf become null, big containers are cut at ``limit``."""
    if isinstance(value, dict):
        return {str(k): _plain(v, limit) for k, v in list(value.items())[:limit]}
    if isinstance(value, list | tuple | set | np.ndarray | pd.Index):
        return [_plain(v, limit) for v in list(value)[:limit]]
    if isinstance(value, pd.Series):
        return _plain(value.to_dict(), limit)
    if isinstance(value, pd.DataFrame):
        return f"<DataFrame {value.shape[0]}x{value.shape[1]}>"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)[:200]


def _frame(x: np.ndarray, y: np.ndarray | None) -> pd.DataFrame:
    df = pd.DataFrame(np.asarray(x, dtype=np.float64), columns=[f"f{i}" for i in range(x.shape[1])])
    if y is not None:
        df[LABEL] = np.asarray(y, dtype=np.int64)
    return df


def _duplicate_rows(df: pd.DataFrame) -> list[int]:
    # DataDuplicates groups by every column (label too) with dropna=False: duplicated() matches
    # it; the rows repeating an earlier one, as the other tools' flagged rows are scored
    return np.flatnonzero(df.duplicated(keep="first").to_numpy()).tolist()


def _mixed_test_rows(train: pd.DataFrame, test: pd.DataFrame) -> list[int]:
    # TrainTestSamplesMix matches on the test set's columns (features, plus the label if it has one)
    cols = list(test.columns)
    seen = train[cols].drop_duplicates().assign(_in_train=True)
    hit = test[cols].merge(seen, on=cols, how="left")["_in_train"].notna()
    return np.flatnonzero(hit.to_numpy()).tolist()


class _LoopSpy:
    """Stands in for PyNomaly's ``loop`` module inside OutlierSampleDetection to keep its scores.

    The check returns only score quantiles; the per-sample scores are what per-row recall needs,
    and computing them again would double the check's cost.
    """

    def __init__(self, real: Any) -> None:
        self.real = real
        self.scores: np.ndarray | None = None

    def LocalOutlierProbability(self, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - PyNomaly's name
        spy = self
        model = self.real.LocalOutlierProbability(*args, **kwargs)
        fit = model.fit

        def fit_and_keep() -> Any:
            fitted = fit()
            spy.scores = np.nan_to_num(np.asarray(fitted.local_outlier_probabilities, dtype=float))
            return fitted

        model.fit = fit_and_keep
        return model


def _summary(name: str, value: Any, check: Any, data: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The main numbers of one check's value, and the rows it flags where it is about rows."""
    train, test = data["train"], data["test"]
    if name == "Data Duplicates":
        return {
            "value": {"duplicate_ratio": value},
            "rows": _duplicate_rows(train),
            "rows_source": "recomputed",
        }
    if name == "Conflicting Labels":
        rows = sorted(int(i) for group in value["samples_indices"] for i in group)
        return {
            "value": {"conflicting_ratio": value["percent_of_conflicting_samples"]},
            "rows": rows,
            "rows_source": "check",
        }
    if name == "Train Test Samples Mix":
        return {
            "value": {"ratio": value["ratio"]},
            "rows": _mixed_test_rows(train, test),
            "rows_source": "recomputed",
            "rows_of": "test",
        }
    if name == "Outlier Sample Detection":
        scores = check._spy.scores
        # the check scores a shuffled sample (n_samples, random_state) of the rows: map back
        order = train.sample(min(check.n_samples, len(train)), random_state=check.random_state)
        rows = sorted(int(i) for i in order.index[scores > OUTLIER_SCORE])
        return {
            "value": {
                "outlier_ratio": len(rows) / len(scores),
                "score_threshold": OUTLIER_SCORE,
                "score_quantiles": {q: float(np.quantile(scores, q)) for q in (0.5, 0.9, 0.99)},
            },
            "rows": rows,
            "rows_source": "check",
        }
    if name == "Feature Drift":
        scores = {f: v["Drift score"] for f, v in value.items()}
        methods = sorted({str(v["Method"]) for v in value.values()})
        return {
            "value": {
                "max_drift_score": max(scores.values()),
                "mean_drift_score": float(np.mean(list(scores.values()))),
                "methods": methods,
                "drift_scores": scores,
            }
        }
    if name == "Multivariate Drift":
        importance = value.get("domain_classifier_feature_importance") or {}
        top = sorted(importance.items(), key=lambda kv: -kv[1])[:20]
        return {
            "value": {
                "domain_classifier_auc": value["domain_classifier_auc"],
                "drift_score": value["domain_classifier_drift_score"],
                "top_features": dict(top),
            }
        }
    if name == "Label Drift":
        return {"value": {"drift_score": value["Drift score"], "method": value["Method"]}}
    if name == "Feature Label Correlation Change":
        diff = value["train-test difference"]
        top = sorted(diff.items(), key=lambda kv: -abs(kv[1]))[:20]
        return {
            "value": {
                "max_train_pps": max(value["train"].values()),
                "max_test_pps": max(value["test"].values()),
                "max_abs_difference": max(abs(v) for v in diff.values()),
                "top_differences": dict(top),
            }
        }
    if name == "Feature Label Correlation":
        top = sorted(value.items(), key=lambda kv: -kv[1])[:20]
        return {"value": {"max_pps": max(value.values()), "top_pps": dict(top)}}
    if name == "Feature Feature Correlation":
        corr = value.to_numpy(dtype=float, copy=True)
        np.fill_diagonal(corr, 0.0)
        return {"value": {"max_abs_correlation": float(np.nanmax(np.abs(corr)))}}
    if name == "Percent Of Nulls":
        ratios = value["Percent of nulls in sample"]  # indexed by column
        return {
            "value": {
                "max_null_ratio": float(ratios.max()),
                "null_ratios": ratios[ratios > 0].to_dict(),
            }
        }
    if name == "Is Single Value":
        return {"value": {"single_value_columns": [c for c, n in value.items() if n == 1]}}
    if name == "Class Imbalance":
        ratios = list(value.values())  # most to least frequent
        # 0.19.1's condition is inverted (WARN when ratio >= 0.1, i.e. balanced): keep the number
        return {"value": {"least_to_most_ratio": ratios[-1] / ratios[0], "label_ratios": value}}
    return {"value": _compact(value)}


def _compact(value: Any) -> Any:
    """A per-column dict without the columns where nothing was found (empty or zero)."""
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k == "feature_importance":
            continue  # no model is given, so it is all nulls
        v = _compact(v)
        if (isinstance(v, dict | list) and not v) or (isinstance(v, int | float) and v == 0):
            continue
        out[k] = v
    return out


def _build_checks(outlier_timeout: int | None) -> list[tuple[str, str, Any]]:
    """(suite, dataset kind, check) for every check to run, with its conditions."""
    from deepchecks.tabular.checks import ClassImbalance, OutlierSampleDetection, PercentOfNulls
    from deepchecks.tabular.checks.data_integrity import outlier_sample_detection
    from deepchecks.tabular.suites import data_integrity, train_test_validation

    checks: list[tuple[str, str, Any]] = []
    for check in data_integrity().checks.values():
        if isinstance(check, OutlierSampleDetection):
            check.add_condition_outlier_ratio_less_or_equal()
            if outlier_timeout is not None:
                check.timeout = outlier_timeout
            check._spy = _LoopSpy(outlier_sample_detection.loop)
            outlier_sample_detection.loop = check._spy
        checks.append(("data_integrity", "train", check))
    checks.append(("extra", "train", ClassImbalance().add_condition_class_ratio_less_than()))
    checks.append(
        ("extra", "train", PercentOfNulls().add_condition_percent_of_nulls_not_greater_than())
    )
    checks += [
        ("train_test_validation", "train+test", c) for c in train_test_validation().checks.values()
    ]
    return checks


def run_case(
    npz: Path, outlier_timeout: int | None = None, only: set[str] | None = None
) -> dict[str, Any]:
    """Every check on the arrays in ``npz``; a check that raises is recorded and the rest go on."""
    start = time.perf_counter()
    import deepchecks
    from deepchecks.tabular import Dataset

    arrays = np.load(npz)
    train_y = arrays["train_y"]
    test_y = arrays["test_y"]
    labelled = bool((test_y != -1).any())
    data = {
        "train": _frame(arrays["train_x"], train_y),
        "test": _frame(arrays["test_x"], test_y if labelled else None),
    }
    classes = np.unique(np.concatenate([train_y, test_y[test_y != -1]]))
    # explicit label type: deepchecks would otherwise guess regression for many integer classes
    label_type = "binary" if len(classes) <= 2 else "multiclass"
    kw: dict[str, Any] = {"cat_features": [], "label_type": label_type}
    train_ds = Dataset(data["train"], label=LABEL, **kw)
    test_ds = Dataset(data["test"], label=LABEL if labelled else None, **kw)

    results = []
    for suite, kind, check in _build_checks(outlier_timeout):
        name = check.name()
        if only and name not in only:
            continue
        entry: dict[str, Any] = {"name": name, "suite": suite, "dataset": kind}
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # deepchecks warns per check; the JSON says enough
                if kind == "train":
                    result = check.run(train_ds, with_display=False)
                else:
                    result = check.run(train_ds, test_ds, with_display=False)
            conditions = [
                {"name": c.name, "category": c.category.value, "details": c.details}
                for c in result.conditions_results
            ]
            entry["status"] = "ok"
            # WARN counts as not passed: it is how deepchecks flags a problem it is unsure of
            entry["passed"] = (
                all(c["category"] == "PASS" for c in conditions) if conditions else None
            )
            entry["conditions"] = conditions
            entry.update(_plain(_summary(name, result.value, check, data)))
            if "rows" in entry:
                entry.setdefault("rows_of", "train")
        except Exception as e:
            entry["status"] = "error"
            entry["error"] = f"{type(e).__name__}: {e}"[:1000]
            if not _expected_error(e):
                entry["traceback"] = traceback.format_exc()[-2000:]
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        results.append(entry)
        print(f"{entry['seconds']:8.2f}s {entry['status']:5} {name}", file=sys.stderr, flush=True)

    return {
        "deepchecks_version": deepchecks.__version__,
        "n_train": len(data["train"]),
        "n_test": len(data["test"]),
        "n_features": int(arrays["train_x"].shape[1]),
        "test_labelled": labelled,
        "label_type": label_type,
        "outlier_timeout": outlier_timeout,
        "checks": results,
        "seconds": round(time.perf_counter() - start, 3),
    }


def _expected_error(e: Exception) -> bool:
    # checks that do not apply (no text/date/index columns, no test label) raise these by design
    from deepchecks.core.errors import DeepchecksBaseError

    return isinstance(e, DeepchecksBaseError)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("npz", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--outlier-timeout",
        type=int,
        default=None,
        help="seconds OutlierSampleDetection may take (0: no limit); default: deepchecks' own (10)",
    )
    parser.add_argument("--only", default="", help="comma-separated check names to run")
    args = parser.parse_args()
    only = {n.strip() for n in args.only.split(",") if n.strip()} or None
    report = run_case(args.npz, args.outlier_timeout, only)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(args.out)  # the caller never reads a half-written file


if __name__ == "__main__":
    main()
