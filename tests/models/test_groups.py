"""Every family's declared groups claim every parameter, shallow to deep."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from torch import nn

from domainfit.models.groups import layer_groups


def _hf_vit() -> nn.Module:
    from transformers import ViTConfig, ViTModel

    return ViTModel(
        ViTConfig(
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            image_size=16,
            patch_size=8,
        )
    )


def _hf_resnet() -> nn.Module:
    from transformers import ResNetConfig, ResNetModel

    return ResNetModel(ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1]))


def _hf_convnext() -> nn.Module:
    from transformers import ConvNextConfig, ConvNextModel

    return ConvNextModel(ConvNextConfig(hidden_sizes=[8, 16], depths=[1, 1], num_stages=2))


def _distilbert() -> nn.Module:
    from transformers import DistilBertConfig, DistilBertModel

    return DistilBertModel(
        DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64, vocab_size=100)
    )


def _timm(name: str, **kw: object) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        import timm

        return timm.create_model(name, pretrained=False, num_classes=0, **kw)

    return build


CASES = [
    ("hf_vit", _hf_vit, ["embeddings", "layer.0", "layer.1", "norm"]),
    ("hf_resnet", _hf_resnet, ["embedder", "stage.0", "stage.1"]),
    ("hf_convnext", _hf_convnext, ["embeddings", "stage.0", "stage.1", "norm"]),
    ("distilbert", _distilbert, ["embeddings", "layer.0", "layer.1"]),
    ("timm_convnext", _timm("convnext_atto"), ["stem", "stage.0", "stage.1", "stage.2", "stage.3"]),
    (
        "timm_vit",
        _timm("vit_tiny_patch16_224", img_size=32, depth=2),
        ["embed", "block.0", "block.1", "norm"],
    ),
    (
        "timm_efficientnet",
        _timm("efficientnet_b0"),
        ["stem", *[f"block.{i}" for i in range(7)], "conv_head"],
    ),
]


@pytest.mark.parametrize(("family", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_family_groups(family: str, build: Callable[[], nn.Module], expected: list[str]) -> None:
    model = build()
    groups = layer_groups(model, family)
    names = [g.name for g in groups]
    assert names[: len(expected)] == expected
    assert "other" not in names
    claimed = [n for g in groups for n, _ in g.params]
    assert sorted(claimed) == sorted(n for n, _ in model.named_parameters())


def test_generic_fallback_by_module_order() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    groups = layer_groups(model, "generic")
    assert [g.name for g in groups] == ["0", "2"]
    assert groups[0].numel == 16
