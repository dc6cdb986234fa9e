"""lora: adapters only (and the head) train; the run saves merged weights that predict and
export load without peft; default targets per backbone family, clear errors otherwise."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import domainfit
from domainfit.config_io import load_config
from domainfit.errors import ConfigError
from domainfit.fit import build_session
from domainfit.models.backbone import Backbone
from domainfit.models.groups import layer_groups
from domainfit.models.specs import BackboneSpec
from domainfit.strategies.lora import Lora, is_adapter
from tests.models.tiny import save_tiny_bert, write_reviews_csv
from tests.strategies.peft_cases import text_config as _config


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def test_lora_trains_only_adapters_and_the_head(tmp_path: Path, bert_dir: Path) -> None:
    cfg = load_config(_config(tmp_path, bert_dir, {"name": "lora", "lora": {"r": 4}}))
    s = build_session(cfg, None)
    trained = {id(p) for g in s.strategy.param_groups() for p in g["params"]}
    backbone = [(n, p) for g in s.strategy.groups for n, p in g.params]
    adapters = [n for n, p in backbone if id(p) in trained]
    # query and value of both layers, an A and a B matrix each
    assert len(adapters) == 8 and all(is_adapter(n) for n in adapters)
    assert all(".query." in n or ".value." in n for n in adapters)
    assert all(id(p) in trained for p in s.model.head.parameters())
    assert not any(p.requires_grad for n, p in backbone if not is_adapter(n))
    assert [g.name for g in s.strategy.groups] == ["embeddings", "layer.0", "layer.1", "pooler"]


def test_lora_run_predicts_as_the_adapted_model_and_exports(
    tmp_path: Path, bert_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnxruntime as ort

    from domainfit.data.load import load_domain
    from domainfit.data.loaders import Batches, EncodedSet
    from domainfit.export import export_run
    from domainfit.inference import load_run, predict_file

    adapted: list[torch.nn.Module] = []
    merge = Lora.finalize

    def keep_a_copy(self: Lora, model: torch.nn.Module) -> None:
        adapted.append(copy.deepcopy(model))  # the in-memory adapted model, before merging
        merge(self, model)

    monkeypatch.setattr(Lora, "finalize", keep_a_copy)
    run = domainfit.fit(_config(tmp_path, bert_dir, {"name": "lora"}), out=tmp_path / "run")
    assert run.metrics["source.test.accuracy"] >= 0.8

    saved = load_file(str(run.dir / "model" / "model.safetensors"))
    assert not any("lora_" in k or "base_layer" in k for k in saved)  # plain backbone + head
    new = write_reviews_csv(tmp_path / "new.csv", n=24, seed=3)
    predicted = predict_file(run.dir, str(new), tmp_path / "preds.csv")  # no peft involved
    loaded = load_run(run.dir)
    data = EncodedSet(loaded.encode(load_domain(str(new))), None, loaded.pad_id)
    with torch.no_grad():
        (batch,) = Batches(data, len(data), shuffle=False)
        p1 = torch.sigmoid(adapted[0].eval()(batch).squeeze(-1)).numpy()
    np.testing.assert_allclose(predicted["p:1"].to_numpy(), p1, atol=1e-5)
    np.testing.assert_allclose(predicted["p:0"].to_numpy(), 1 - p1, atol=1e-5)

    out = export_run(run.dir, "onnx", tmp_path / "export")
    ids = torch.randint(5, 17, (3, 9))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        ref = loaded.model({"input_ids": ids, "attention_mask": mask}).numpy()
    got = ort.InferenceSession(str(out / "model.onnx")).run(
        None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    )[0]
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)


def _fake_backbone(inner: torch.nn.Module, family: str) -> Backbone:
    return Backbone(inner, inner, family, "image", 8, BackboneSpec("timm", "x"))


def test_lora_targets_per_family_and_clear_errors(tmp_path: Path, bert_dir: Path) -> None:
    import timm

    cfg = load_config(_config(tmp_path, bert_dir, {"name": "lora"}))
    vit = timm.create_model("vit_tiny_patch16_224", num_classes=0, img_size=32, depth=2)
    Lora.prepare(cfg, _fake_backbone(vit, "timm_vit"))  # default target: the fused qkv
    groups = layer_groups(vit, "timm_vit")
    adapted = {g.name for g in groups for n, _ in g.params if is_adapter(n)}
    assert adapted == {"block.0", "block.1"} and "other" not in {g.name for g in groups}

    convnet = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten())
    with pytest.raises(ConfigError, match=r"no default target modules for the 'timm_resnet'"):
        Lora.prepare(cfg, _fake_backbone(convnet, "timm_resnet"))
    bad = _config(tmp_path, bert_dir, {"name": "lora", "lora": {"target_modules": ["nope"]}})
    with pytest.raises(ConfigError, match=r"Conv2d layers it has: .*query"):
        domainfit.fit(bad, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
