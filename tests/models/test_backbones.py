"""Backbones load through the real code paths from weights the tests save themselves."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from domainfit.config import ModelConfig
from domainfit.errors import ConfigError, DataError
from domainfit.models.backbone import load_backbone
from domainfit.models.groups import layer_groups
from domainfit.models.weights import load_state_dict
from tests.models.tiny import save_tiny_bert


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("bert"))


def _batch(n: int = 3, length: int = 7) -> dict[str, torch.Tensor]:
    ids = torch.randint(1, 17, (n, length))
    mask = torch.ones(n, length, dtype=torch.long)
    mask[0, 4:] = 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_hf_text_backbone(tiny_bert: Path, pooling: str) -> None:
    bb = load_backbone(ModelConfig(backbone=f"hf:{tiny_bert}", pooling=pooling))
    assert bb.modality == "text" and bb.out_features == 32 and bb.family == "bert"
    batch = _batch()
    out = bb.encoder(batch)
    assert out.shape == (3, 32)
    if pooling == "mean":  # padding must not change the pooled value of a row
        longer = {k: torch.cat([v, torch.zeros(3, 2, dtype=v.dtype)], 1) for k, v in batch.items()}
        torch.testing.assert_close(bb.encoder(longer), out, atol=1e-5, rtol=1e-5)
    names = [g.name for g in layer_groups(bb.inner, bb.family)]
    assert names == ["embeddings", "layer.0", "layer.1", "pooler"]


def test_minilm_shortcut_is_the_real_model() -> None:
    bb = load_backbone(ModelConfig(backbone="minilm"))
    assert bb.out_features == 384 and bb.family == "bert"
    names = [g.name for g in layer_groups(bb.inner, bb.family)]
    assert names == ["embeddings", *[f"layer.{i}" for i in range(6)], "pooler"]
    assert bb.tokenizer_path is not None and Path(bb.tokenizer_path, "config.json").is_file()


def test_hub_id_needs_download_permission() -> None:
    with pytest.raises(ConfigError, match="downloads are off"):
        load_backbone(ModelConfig(backbone="hf:some-org/some-model"))


def test_bad_spec_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean 'timm'"):
        load_backbone(ModelConfig(backbone="tim:resnet18"))


def _save_timm(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    import timm

    torch.manual_seed(1)
    model = timm.create_model("resnet10t", pretrained=False, num_classes=5)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    path = tmp_path / "resnet10t.safetensors"
    save_file(state, str(path))
    return path, state


def test_timm_with_weights_file(tmp_path: Path) -> None:
    path, state = _save_timm(tmp_path)
    bb = load_backbone(ModelConfig(backbone="timm:resnet10t", weights=str(path)))
    own = bb.inner.state_dict()
    assert torch.equal(own["conv1.0.weight"], state["conv1.0.weight"])
    assert bb.encoder({"x": torch.randn(2, 3, 32, 32)}).shape == (2, bb.out_features)
    groups = layer_groups(bb.inner, bb.family)
    assert [g.name for g in groups] == ["stem", "layer1", "layer2", "layer3", "layer4"]


def test_torchvision_with_torch_pickle_weights(tmp_path: Path) -> None:
    from torchvision.models import get_model

    torch.manual_seed(2)
    ref = get_model("resnet18", weights=None, num_classes=3)
    path = tmp_path / "r18.pth"
    torch.save(ref.state_dict(), path)
    bb = load_backbone(ModelConfig(backbone="torchvision:resnet18", weights=str(path)))
    assert bb.out_features == 512
    assert torch.equal(bb.inner.state_dict()["layer4.1.conv2.weight"], ref.layer4[1].conv2.weight)
    assert [g.name for g in layer_groups(bb.inner, bb.family)] == [
        "stem",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
    ]


def test_local_folder(tmp_path: Path) -> None:
    path, state = _save_timm(tmp_path)
    folder = tmp_path / "local"
    folder.mkdir()
    path.rename(folder / "model.safetensors")
    (folder / "domainfit_model.json").write_text(
        json.dumps({"library": "timm", "name": "resnet10t"})
    )
    bb = load_backbone(ModelConfig(backbone=f"local:{folder}"))
    assert torch.equal(
        bb.inner.state_dict()["layer1.0.conv1.weight"], state["layer1.0.conv1.weight"]
    )


def test_weights_that_do_not_fit(tmp_path: Path) -> None:
    path, _ = _save_timm(tmp_path)
    with pytest.raises(ConfigError, match="do not fit the model"):
        load_backbone(ModelConfig(backbone="timm:resnet18", weights=str(path)))


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_code_running_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(2), "payload": _Evil(marker)}, path)
    with pytest.raises(DataError, match="refused to load"):
        load_state_dict(path)
    assert not marker.exists()


def test_python_backbone_is_opt_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_models.py").write_text(
        "import torch\n"
        "class Net(torch.nn.Module):\n"
        "    out_features = 4\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.lin = torch.nn.Linear(6, 4)\n"
        "    def forward(self, x):\n"
        "        return self.lin(x)\n"
        "def build():\n"
        "    return Net()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="allow_python=true"):
        load_backbone(ModelConfig(backbone="python:my_models:build"))
    bb = load_backbone(ModelConfig(backbone="python:my_models:build", allow_python=True))
    assert bb.encoder({"x": torch.randn(2, 6)}).shape == (2, 4)
    assert [g.name for g in layer_groups(bb.inner, bb.family)] == ["lin"]
    sys.modules.pop("my_models", None)
