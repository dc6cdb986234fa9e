"""A failed export leaves no folder behind: it is written aside and renamed when whole."""

from __future__ import annotations

from pathlib import Path

import pytest

import domainfit
from domainfit import export
from tests.faults.tiny_run import config


def test_failed_onnx_export_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = domainfit.fit(config(tmp_path), out=tmp_path / "run")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tracing failed")

    monkeypatch.setattr(export, "export_onnx", broken)
    out = tmp_path / "exported"
    with pytest.raises(RuntimeError, match="tracing failed"):
        export.export_run(run.dir, "onnx", out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".exported")] == []
    monkeypatch.undo()
    done = export.export_run(run.dir, "safetensors", out)
    assert {p.name for p in done.iterdir()} >= {"model.safetensors", "model.json", "config.yaml"}
