"""Findings speak of what the run has: an ``mlp`` over feature columns has no pretrained
backbone, so ``domain_gap`` is measured "on the input features (after preprocessing)" and
never suggests unfreezing layers; a pretrained backbone keeps its wording and advice."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import domainfit.api as api
from domainfit.config import RunConfig
from domainfit.diagnose.advice import as_dict, built_from_data
from domainfit.diagnose.data_findings import _fewer_parameters
from domainfit.diagnose.feature_findings import Labelled, domain_gap
from tests.diagnose import planted

LAYERS = ("strategy.name", "deeper", "unfreez", "layerwise", "backbone")


def _domain(seed: int, shift: float = 0.0, n: int = 600) -> Labelled:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.5).astype(int)
    x = rng.normal(size=(n, 8)) + np.where(y[:, None] == 1, 1.5, -1.5) * (np.arange(8) < 2)
    return Labelled(f"d{seed}", x + shift, y, [str(i) for i in range(n)])


def _settings(backbone: str) -> dict[str, object]:
    raw = planted.config("s.csv", "t.csv")
    raw["model"]["backbone"] = backbone
    return as_dict(RunConfig.model_validate(raw))  # the dict diagnose passes, defaults included


def test_mlp_domain_gap_names_the_input_features_and_no_layers() -> None:
    src, tgt = _domain(0), _domain(1, shift=2.0)
    (f,) = domain_gap(src, tgt, cfg=_settings("mlp:32"))
    assert "on the input features (after preprocessing)" in f.title
    assert "backbone" not in f.title
    assert not [w for w in LAYERS if w in f.fix], f.fix
    assert "adapt.method: dann" in f.fix and "domainfit align CONFIG --method coral" in f.fix
    assert "data.target_labels: 50" in f.fix
    (f,) = domain_gap(src, tgt, adapting="adapt.method: dann", cfg=_settings("mlp"))
    assert f.fix.startswith("measured on the input features (after preprocessing); the run")


def test_pretrained_backbone_keeps_its_wording() -> None:
    src, tgt = _domain(0), _domain(1, shift=2.0)
    settings = _settings("minilm")
    settings["strategy"] = {"name": "linear_probe"}
    (f,) = domain_gap(src, tgt, cfg=settings)
    assert "on the backbone's features" in f.title
    assert "strategy.name: full or layerwise_lr" in f.fix and "domainfit align" not in f.fix
    (f,) = domain_gap(src, tgt, adapting="adapt.method: dann", cfg=settings)
    assert f.fix.startswith("measured on the starting backbone")


def test_few_samples_on_an_mlp_are_not_told_to_probe_a_random_network() -> None:
    assert built_from_data(_settings("mlp:256,256")) and not built_from_data(_settings("minilm"))
    big = _fewer_parameters(_settings("mlp:256,256"))
    assert "linear_probe" not in big.text and "mlp:32" in big.text
    assert not big.applied(_settings("mlp:256,256")) and big.applied(_settings("mlp:16,16"))
    assert "linear_probe" in _fewer_parameters(_settings("minilm")).text


def test_diagnose_on_feature_columns_speaks_of_input_features(tmp_path: Path) -> None:
    source = planted.write(planted.blobs(seed=0), tmp_path / "source.csv")
    shifted = planted.write(planted.blobs(seed=1, shift=2.0), tmp_path / "shifted.csv")
    result = api.diagnose(planted.config(source, shifted))
    (gap,) = [f for f in result.findings if f.code == "domain_gap"]
    assert "input features (after preprocessing)" in gap.title
    assert "strategy.name" not in gap.fix
