"""List and compare tracked runs from MLflow, for the terminal."""

from __future__ import annotations

from typing import Any


def list_runs(uri: str, experiment: str, limit: int = 20) -> list[dict[str, Any]]:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return []
    found = client.search_runs(
        [exp.experiment_id], order_by=["attributes.start_time DESC"], max_results=limit
    )
    rows = []
    for r in found:
        m = r.data.metrics
        rows.append(
            {
                "name": r.info.run_name,
                "status": r.info.status,
                "strategy": r.data.params.get("strategy.name", ""),
                "backbone": r.data.params.get("model.backbone", ""),
                "val_accuracy": m.get("final.source.val.accuracy"),
                "test_accuracy": m.get("final.source.test.accuracy"),
                "run_dir": r.data.tags.get("run_dir", ""),
            }
        )
    return rows
