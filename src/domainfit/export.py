"""Export a finished run's model: safetensors (with what inference needs) or ONNX."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from torch import nn

from domainfit.errors import ConfigError
from domainfit.inference import TrainedModel, load_run
from domainfit.io_utils import staged_dir


class _TextLogits(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model({"input_ids": input_ids, "attention_mask": attention_mask})


class _ImageLogits(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model({"x": x})


def export_run(run_dir: Path, fmt: str, out: Path) -> Path:
    if out.exists():
        raise ConfigError(f"export folder {out} already exists", "choose another --out")
    trained = load_run(run_dir)
    # written aside and renamed when whole: a failed ONNX trace leaves no half an export
    with staged_dir(out) as tmp:
        for name in ("model/model.safetensors", "model/model.json", "config.yaml"):
            shutil.copy2(run_dir / name, tmp / Path(name).name)
        if trained.cfg.model is not None and trained.model.backbone_info.tokenizer_path:
            _copy_tokenizer(Path(trained.model.backbone_info.tokenizer_path), tmp / "tokenizer")
        if fmt == "onnx":
            export_onnx(trained, tmp / "model.onnx")
    return out


def _copy_tokenizer(src: Path, dst: Path) -> None:
    dst.mkdir()
    for f in src.iterdir():
        if f.is_file() and (
            "token" in f.name or f.name in ("vocab.txt", "special_tokens_map.json")
        ):
            shutil.copy2(f, dst / f.name)


def example_inputs(trained: TrainedModel) -> tuple[nn.Module, tuple[torch.Tensor, ...], list[str]]:
    if trained.model.backbone_info.modality == "text":
        ids = torch.ones((2, 16), dtype=torch.long)
        mask = torch.ones((2, 16), dtype=torch.long)
        return _TextLogits(trained.model), (ids, mask), ["input_ids", "attention_mask"]
    assert trained.cfg.model is not None
    from domainfit.models.image_convention import image_convention

    size = image_convention(trained.cfg.model).size
    return _ImageLogits(trained.model), (torch.zeros(2, 3, size, size),), ["x"]


def export_onnx(trained: TrainedModel, path: Path) -> None:
    wrapper, args, names = example_inputs(trained)
    wrapper.eval()
    batch = torch.export.Dim("batch", min=1)
    shapes: dict[str, dict[int, object]] = {n: {0: batch} for n in names}
    if len(names) == 2:
        seq = torch.export.Dim("sequence", min=2)
        shapes = {n: {0: batch, 1: seq} for n in names}
    torch.onnx.export(
        wrapper,
        args,
        str(path),
        input_names=names,
        output_names=["logits"],
        dynamic_shapes=shapes,
        dynamo=True,
    )
