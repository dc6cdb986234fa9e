"""The refit's time check: only the export is still to come when it runs."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from domainfit.auto import refit
from domainfit.auto.plan import Step
from domainfit.config_io import load_config


def _exp(tmp_path: Path, left: float) -> Any:
    step = Step("02-bitfit", "strategy", "minilm", "bitfit")
    return SimpleNamespace(
        winner_step=lambda: step,
        factor=lambda: 1.0,
        clock=SimpleNamespace(left=lambda: left),
        export_cost=lambda: 5.0,
        last_parts=lambda: 60.0,  # diagnosis and export: the diagnosis has run already
        out=tmp_path,
        sizes={"source.train": 140, "source.val": 30, "source.test": 30},
        setup=SimpleNamespace(base_dir=None),
    )


def test_refit_fits_in_the_time_left_after_the_export_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refit, "why_not", lambda exp, step: "")
    monkeypatch.setattr(refit, "raw_cost", lambda exp, step: 100.0)
    seen: dict[str, Any] = {}

    def fake_fit(cfg: Any, base_dir: Any, out: Path, resume: bool) -> None:
        seen["cfg"] = cfg
        out.mkdir(parents=True)
        (out / "run.json").write_text(json.dumps({"stopped": "train.max_seconds"}))

    # the module: ``domainfit.fit`` is the function the package exports
    monkeypatch.setattr(importlib.import_module("domainfit.fit"), "run_fit", fake_fit)
    wcfg = load_config({"data": {"source": "x.csv"}, "train": {"epochs": 9}})
    # 100 s of estimate, 95 - 5 = 90 s of room: within the slack, it runs, hard-stopped at 90 s
    done = refit.run(_exp(tmp_path, 95.0), {"id": "02-bitfit", "dir": "steps/02"}, wcfg)
    assert done["dir"] == "refit" and done["rows"] == 200 and done["stopped"]
    cfg = seen["cfg"]
    assert (cfg.split.train, cfg.split.val, cfg.split.test) == (1.0, 0.0, 0.0)
    assert cfg.train.max_seconds == 90.0 and cfg.train.epochs == 9
    # far short of it: skipped, and says why
    skipped = refit.run(_exp(tmp_path, 50.0), {"id": "02-bitfit", "dir": "steps/02"}, wcfg)
    assert skipped["skipped"].startswith("needs ~")
