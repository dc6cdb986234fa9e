"""What a sweep leaves: the trials table (JSON and CSV leaderboard), the best config as YAML
ready for ``domainfit fit``, Optuna's parameter importances, and the HTML report."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial, TrialState

from domainfit.io_utils import write_json_atomic, write_text_atomic
from domainfit.search import storage as st
from domainfit.search.space import with_params

STATES = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "waiting",
}


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """Every trial that used budget or still may, best first; interrupted trials (re-queued)
    and surplus asks (never run) are left out."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.FAIL and not st.counted(t):
            continue
        rows.append(_row(t))
    sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
    order = {"complete": 0, "pruned": 1, "running": 2, "waiting": 3, "failed": 4}

    def key(r: dict[str, Any]) -> tuple[int, float, int]:
        value = r["value"] if r["value"] is not None else math.inf
        return order[r["state"]], sign * value if r["value"] is not None else value, r["trial"]

    return sorted(rows, key=key)


def _row(t: FrozenTrial) -> dict[str, Any]:
    steps = sorted(t.intermediate_values)
    return {
        "trial": t.number,
        "state": STATES.get(t.state, t.state.name.lower()),
        "value": t.value if t.state == TrialState.COMPLETE else None,
        "params": dict(t.params),
        "validations": len(steps),
        "last_reported": t.intermediate_values[steps[-1]] if steps else None,
        "curve": [t.intermediate_values[s] for s in steps],
        "seconds": t.user_attrs.get("seconds"),
        "reason": t.user_attrs.get(st.REASON_ATTR),
        "run_dir": t.user_attrs.get(st.RUN_DIR_ATTR),
    }


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    out = {s: 0 for s in ("complete", "pruned", "failed", "running", "waiting")}
    for r in rows:
        out[r["state"]] += 1
    return out


def compute_used(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds of training and validations run (one per epoch by default), over all trials:
    what pruning saves shows here."""
    return {
        "trial_seconds": round(sum(r["seconds"] or 0.0 for r in rows), 1),
        "validations": float(sum(r["validations"] for r in rows)),
    }


def importances(study: optuna.Study) -> dict[str, float]:
    """Optuna's parameter importances (its default evaluator) over finished trials; empty
    until two trials have finished with different values."""
    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if len({t.value for t in done}) < 2:
        return {}
    try:
        with warnings.catch_warnings():  # "few trials per regime" early in a sweep: expected
            warnings.simplefilter("ignore", UserWarning)
            found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError):
        return {}
    return {k: float(v) for k, v in found.items()}


def best_config(study: optuna.Study, raw: dict[str, Any], out: Path) -> Path | None:
    """The base config with the best trial's parameters: ``domainfit fit best.yaml``."""
    try:
        best = study.best_trial
    except ValueError:
        return None  # no trial has finished
    cfg = with_params(raw, best.params)
    cfg["name"] = f"{raw.get('name', 'run')}-best"
    head = (
        f"# best of sweep {raw.get('name', 'run')}: trial {best.number}, value {best.value:.6g}\n"
        f"# train it: domainfit fit {out}\n"
    )
    write_text_atomic(out, head + yaml.safe_dump(cfg, sort_keys=False))
    return out


def write_results(study: optuna.Study, raw: dict[str, Any], out_dir: Path, metric: str) -> dict:
    """trials.json, leaderboard.csv, best.yaml and sweep.html; returns the summary."""
    from domainfit.report.sweep_html import write_sweep_report

    rows = trial_rows(study)
    summary = {
        "metric": metric,
        "direction": study.direction.name.lower(),
        "counts": counts(rows),
        "compute": compute_used(rows),
        "importances": importances(study),
        "best": next((r for r in rows if r["state"] == "complete"), None),
    }
    write_json_atomic(out_dir / "trials.json", {**summary, "trials": rows})
    write_text_atomic(out_dir / "leaderboard.csv", leaderboard_csv(rows))
    best = best_config(study, raw, out_dir / "best.yaml")
    summary["best_config"] = str(best) if best else None
    report = write_sweep_report(out_dir, summary, rows)
    summary["report"] = str(report)
    return summary


def leaderboard_csv(rows: list[dict[str, Any]]) -> str:
    names = sorted({k for r in rows for k in r["params"]})
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["trial", "state", "value", *names, "validations", "seconds", "reason"])
    for r in rows:
        params = [_cell(r["params"][n]) if n in r["params"] else "" for n in names]
        writer.writerow(
            [
                r["trial"],
                r["state"],
                r["value"],
                *params,
                r["validations"],
                r["seconds"],
                r["reason"],
            ]
        )
    return buf.getvalue()


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
