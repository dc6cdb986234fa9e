"""Adaptation through ``fit``: target batches paired with source batches, target labels never
read unless ``data.target_labels`` allows it, the transductive protocol, checkpoint choice by a
label-free validator, and refusals of configs that cannot work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from safetensors.torch import load_file

import domainfit
from domainfit.config_io import load_config
from domainfit.errors import ConfigError, DomainfitError
from domainfit.fit import build_session
from tests.adapt.shifted import shifted_domains


def _cfg(src: Path, tgt: Path, **adapt: Any) -> dict[str, Any]:
    return {
        "data": {"source": str(src), "target": str(tgt)},
        "model": {"backbone": "mlp:32"},
        "adapt": {"protocol": "transductive", **adapt},
        "train": {"epochs": 6, "batch_size": 32, "lr": 3e-3, "schedule": "constant"},
        "track": {"enabled": False},
    }


def test_mmd_beats_source_only_on_shifted_domains(tmp_path: Path) -> None:
    src, tgt = shifted_domains(tmp_path)
    plain = _cfg(src, tgt)
    plain.pop("adapt")
    base = domainfit.fit(plain, out=tmp_path / "plain").metrics["target.test.accuracy"]
    run = domainfit.fit(_cfg(src, tgt, method="mmd"), out=tmp_path / "mmd")
    assert run.metrics["target.test.accuracy"] > base + 0.1
    assert all("train.domain_loss" in row for row in run.history)
    assert {"target.pool.im", "target.pool.snd"} <= set(run.metrics)


def test_unsupervised_adaptation_never_reads_target_labels(tmp_path: Path) -> None:
    src, tgt = shifted_domains(tmp_path)
    scrambled = tmp_path / "scrambled.csv"
    frame = pd.read_csv(tgt)
    frame["label"] = np.random.default_rng(1).permutation(frame["label"].to_numpy())
    frame.to_csv(scrambled, index=False)
    adapt = {"method": "dann", "self_training": {"enabled": True, "threshold": 0.4}}
    a = domainfit.fit(_cfg(src, tgt, **adapt), out=tmp_path / "a")
    b = domainfit.fit(_cfg(src, scrambled, **adapt), out=tmp_path / "b")
    wa = load_file(str(a.dir / "model" / "model.safetensors"))
    wb = load_file(str(b.dir / "model" / "model.safetensors"))
    assert all(np.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa)
    assert a.history == b.history
    assert max(row["adapt.pseudo_labels"] for row in a.history) > 0


def test_target_labels_join_training_and_leave_the_test_set(tmp_path: Path) -> None:
    src, tgt = shifted_domains(tmp_path)
    cfg_file = tmp_path / "c.yaml"
    import yaml

    cfg = _cfg(src, tgt, method="coral")
    cfg["data"]["target_labels"] = 12
    cfg_file.write_text(yaml.safe_dump(cfg))
    s = build_session(load_config(cfg_file), tmp_path)
    n_source_train = len(s.prepared.folds["source"][0]["train"])
    assert len(s.sets["source.train"]) == n_source_train + 12
    labelled = s.prepared.labelled_target
    assert len(labelled) == 12
    test = s.prepared.folds["target"][0]["test"]
    assert len(np.intersect1d(test, labelled)) == 0
    assert len(test) == len(pd.read_csv(tgt)) - 12
    assert s.adapter is not None and len(s.adapter.pool) == len(pd.read_csv(tgt))


def test_validator_selection_logs_target_scores(tmp_path: Path) -> None:
    src, tgt = shifted_domains(tmp_path, n=120)
    run = domainfit.fit(_cfg(src, tgt, method="coral", select="im"), out=tmp_path / "r")
    assert all("val.target_im" in row and "val.target_snd" in row for row in run.history)


@pytest.mark.parametrize(
    ("adapt", "strategy", "message"),
    [
        ({"method": "dann"}, "linear_probe", "needs trainable features"),
        ({"method": "danm"}, "full", "did you mean 'dann'"),
        ({"method": "dann", "options": {"no_such": 1}}, "full", "no_such"),
    ],
)
def test_configs_that_cannot_adapt_are_refused_before_writing(
    tmp_path: Path, adapt: dict[str, Any], strategy: str, message: str
) -> None:
    src, tgt = shifted_domains(tmp_path, n=60)
    cfg = _cfg(src, tgt, **adapt)
    cfg["strategy"] = {"name": strategy, "cache_dir": str(tmp_path / "cache")}
    with pytest.raises(DomainfitError, match=message):
        domainfit.fit(cfg, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_adaptation_without_a_target_is_a_config_error(tmp_path: Path) -> None:
    src, _ = shifted_domains(tmp_path, n=60)
    with pytest.raises(ConfigError, match="data.target is not set"):
        domainfit.fit(
            {
                "data": {"source": str(src)},
                "model": {"backbone": "mlp:8"},
                "adapt": {"method": "mmd"},
            },
            out=tmp_path / "run",
        )
