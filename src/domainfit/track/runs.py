"""List and compare tracked runs from MLflow, for the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domainfit.report.runfolder import approach_label
from domainfit.track.store import open_client


def folder_bytes(path: Path) -> int | None:
    """Bytes on disk under ``path``; None when the folder is gone."""
    if not path.is_dir():
        return None
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def headline_test_accuracy(metrics: dict[str, float]) -> tuple[float | None, str]:
    """The target's test accuracy when the run has one (what adaptation is judged on), else
    the source's; with the split it came from."""
    for split in ("target.test", "source.test"):
        value = metrics.get(f"final.{split}.accuracy")
        if value is not None:
            return value, split
    return None, ""


def list_runs(uri: str, experiment: str, limit: int = 20) -> list[dict[str, Any]]:
    client = open_client(uri)  # locked: listing may be the first use of a fresh store
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return []
    found = client.search_runs(
        [exp.experiment_id], order_by=["attributes.start_time DESC"], max_results=limit
    )
    rows = []
    for r in found:
        m, p = r.data.metrics, r.data.params
        test, split = headline_test_accuracy(m)
        run_dir = r.data.tags.get("run_dir", "")
        rows.append(
            {
                "name": r.info.run_name,
                "status": r.info.status,
                "strategy": p.get("strategy.name", ""),
                "approach": approach_label(
                    p.get("strategy.name", ""),
                    p.get("adapt.method"),
                    p.get("adapt.protocol"),
                    scratch=p.get("model.pretrained") == "False",
                    random_start=m.get("final.backbone.pretrained") == 0,
                ),
                "backbone": p.get("model.backbone", ""),
                "val_accuracy": m.get("final.source.val.accuracy"),
                "test_accuracy": test,
                "test_split": split,
                "run_dir": run_dir,
                "bytes": folder_bytes(Path(run_dir)) if run_dir else None,
            }
        )
    return rows
