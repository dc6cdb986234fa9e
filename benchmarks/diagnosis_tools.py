"""The three tools the diagnosis benchmark runs on each planted case, all on the same features.

- ``domainfit``: ``domainfit.diagnose`` on the case written as .npz files (source labelled,
  target unlabelled), ``model.backbone: mlp`` as a user with feature arrays would run it.
- ``cleanlab``: ``Datalab`` on the source (its features and the out-of-fold probabilities of the
  same logistic regression domainfit uses), and a second, label-free ``Datalab`` on source and
  target stacked: near duplicates that span both are the leakage, ``non_iid`` the shift.
- ``deepchecks``: its data-integrity and train-test checks, in their own virtualenv
  (``peers/deepchecks_run.py``); it sees the target's labels, which the others do not.

Each returns ``{code: {"raised": bool, "severity": str | None, "flagged": [source rows]}}`` for
the codes it has a check for; a code it lacks is absent (the table shows "no check").
"""

from __future__ import annotations

import re
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from diagnosis_cases import Case

Result = dict[str, dict[str, Any]]


def run_domainfit(case: Case, work: Path) -> tuple[Result, float, list[dict[str, Any]]]:
    import domainfit

    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "source.npz", X=case.xs, y=case.ys)
    np.savez(work / "target.npz", X=case.xt)
    cfg = {
        "name": "diagnosis-benchmark",
        "data": {"source": str(work / "source.npz"), "target": str(work / "target.npz")},
        "model": {"backbone": "mlp"},
        "audit": {"max_examples": 100_000},  # every flagged row, for per-sample scores
    }
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diagnosis = domainfit.diagnose(cfg, seed=case.seed)
    seconds = time.perf_counter() - start
    out: Result = {}
    for f in diagnosis.findings:
        entry = out.setdefault(f.code, {"raised": True, "severity": f.severity, "flagged": []})
        if f.code == "label_noise":
            entry["flagged"] = [_row(i) for i in f.examples]
            entry["looks_wrong"] = entry["flagged"][: f.evidence.get("label_looks_wrong", 0)]
            entry["estimate"] = f.evidence.get("estimated_noise_rate")
        elif f.code == "duplicates":
            entry["flagged"] = sorted(_later_copies(f.examples))
    findings = [
        {"code": f.code, "severity": f.severity, "title": f.title} for f in diagnosis.findings
    ]
    return out, seconds, findings


def _row(sample_id: str) -> int:
    """An array source's sample id ("row 17") as its row number."""
    return int(re.findall(r"\d+", sample_id)[-1])


def _later_copies(examples: list[str]) -> set[int]:
    """Rows repeating an earlier row, from the audit's group examples ("3 = 17 = 40")."""
    out: set[int] = set()
    for group in examples:
        rows = [int(v) for v in re.findall(r"\d+", group)]
        out.update(rows[1:])
    return out


def run_cleanlab(case: Case) -> tuple[Result, float]:
    from cleanlab import Datalab

    from domainfit.diagnose.feature_findings import out_of_fold_probs

    start = time.perf_counter()
    out: Result = {}
    xs = case.xs
    has_nan = bool(np.isnan(xs).any())
    if has_nan:
        # its k-NN issue types need finite features: null rows are judged on the raw array,
        # the rest on zero-filled copies (what a user would have to do)
        lab = Datalab(data={"label": case.ys}, label_name="label", verbosity=0)
        lab.find_issues(features=xs, issue_types={"null": {}})
        nulls = lab.get_issues("null")["is_null_issue"].to_numpy()
        out["missing_values"] = _raised(nulls)
        xs = np.nan_to_num(xs)
    else:
        out["missing_values"] = _raised(np.zeros(len(xs), dtype=bool))
    probs = out_of_fold_probs(xs, case.ys, case.seed)
    lab = Datalab(data={"label": case.ys}, label_name="label", verbosity=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab.find_issues(
            features=xs,
            pred_probs=probs,
            issue_types={"label": {}, "near_duplicate": {}, "class_imbalance": {}},
        )
    labels = lab.get_issues("label")
    out["label_noise"] = _raised(labels["is_label_issue"].to_numpy())
    order = np.argsort(labels["label_score"].to_numpy()[out["label_noise"]["flagged"]])
    out["label_noise"]["flagged"] = [out["label_noise"]["flagged"][i] for i in order]
    near = lab.get_info("near_duplicate").get("near_duplicate_sets", [])
    copies = {int(j) for i, s in enumerate(near) for j in s if int(j) > i}
    out["duplicates"] = {"raised": bool(copies), "severity": None, "flagged": sorted(copies)}
    out["class_imbalance"] = _raised(lab.get_issues("class_imbalance")["is_class_imbalance_issue"])
    both = np.concatenate([xs, np.nan_to_num(case.xt)])
    lab2 = Datalab(data={"row": np.arange(len(both))}, verbosity=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab2.find_issues(features=both, issue_types={"near_duplicate": {}, "non_iid": {}})
    n = len(xs)
    sets = lab2.get_info("near_duplicate").get("near_duplicate_sets", [])
    spans = [i for i, s in enumerate(sets) if i < n and any(int(j) >= n for j in s)]
    out["split_leakage"] = {"raised": bool(spans), "severity": None, "flagged": spans}
    p_value = float(lab2.get_info("non_iid").get("p-value", 1.0))
    out["domain_gap"] = {"raised": p_value < 0.05, "severity": None, "flagged": []}
    return out, time.perf_counter() - start


def _raised(mask: Any) -> dict[str, Any]:
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    return {"raised": bool(len(rows)), "severity": None, "flagged": [int(i) for i in rows]}


# deepchecks check name -> the code it speaks to
DEEPCHECKS_CODES = {
    "Data Duplicates": "duplicates",
    "Conflicting Labels": "label_noise",
    "Percent Of Nulls": "missing_values",
    "Class Imbalance": "class_imbalance",
    "Train Test Samples Mix": "split_leakage",
    "Multivariate Drift": "domain_gap",
    "Label Drift": "label_shift",
}


def run_deepchecks(case: Case) -> tuple[Result, float]:
    """Only the checks that speak to the planted code (all of them on the clean twin): the
    full suites take 4 to 6 minutes a case on 1280-d features and 2 cores."""
    from peers.deepchecks_run import run_deepchecks as peer

    wanted = [n for n, code in DEEPCHECKS_CODES.items() if case.fault in ("clean", code)]
    if not wanted:
        return {}, 0.0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        doc = peer(case.xs, case.ys, case.xt, case.yt, Path(tmp), only=wanted)
    out: Result = {}
    for check in doc.get("checks", []):
        code = DEEPCHECKS_CODES.get(check.get("name", ""))
        if code is None:
            continue
        if check["name"] == "Class Imbalance":
            # 0.19.1's default condition warns on balanced classes (inverted); read its value
            # against the documented rule instead: the rarest class under 0.1 x the commonest
            ratio = (check.get("value") or {}).get("least_to_most_ratio")
            failed = ratio is not None and ratio < 0.1
        else:
            failed = check.get("passed") is False
        entry = out.setdefault(code, {"raised": False, "severity": None, "flagged": []})
        entry["raised"] = entry["raised"] or failed
        rows = check.get("rows", []) or []
        if check.get("rows_of", "train") == "train":
            entry["flagged"] = sorted({*entry["flagged"], *map(int, rows)})
        if check.get("error"):
            entry["error"] = check["error"]
    return out, time.perf_counter() - start
