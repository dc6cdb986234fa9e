"""Use a finished run: rebuild its model from the saved config and best weights, then predict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors.torch import load_file

from domainfit.config import DataSpec, RunConfig
from domainfit.config_io import load_config
from domainfit.data.dataset import DomainDataset
from domainfit.data.feature_pipeline import FeaturePipeline
from domainfit.data.load import load_domain
from domainfit.data.loaders import EncodedSet
from domainfit.errors import ConfigError
from domainfit.evaluate.outputs import model_outputs
from domainfit.io_utils import write_text_atomic
from domainfit.models.backbone import load_backbone
from domainfit.models.heads import TransferModel, build_head, head_outputs
from domainfit.models.inputs import input_encoder


@dataclass
class TrainedModel:
    cfg: RunConfig
    model: TransferModel
    encode: Any
    pad_id: int
    classes: list[str]
    task: str


def load_run(run_dir: Path) -> TrainedModel:
    weights = run_dir / "model" / "model.safetensors"
    meta_path = run_dir / "model" / "model.json"
    if not weights.is_file() or not meta_path.is_file():
        raise ConfigError(
            f"{run_dir} has no trained model (model/model.safetensors)",
            "point at a finished run folder",
        )
    cfg = load_config(run_dir / "config.yaml")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert cfg.model is not None
    preprocessor = FeaturePipeline.load(run_dir / "model")
    backbone = load_backbone(cfg.model, input_width=meta.get("input_width"))
    regression = meta["task"] == "regression"
    outputs = head_outputs(meta["task"], len(meta["classes"]))
    head = build_head(backbone.out_features, outputs, cfg.model.head, rescale=regression)
    model = TransferModel(backbone, head)
    model.load_state_dict(load_file(str(weights)))
    model.eval()
    encode, pad_id = input_encoder(backbone, cfg.model, preprocessor)
    return TrainedModel(cfg, model, encode, pad_id, meta["classes"], meta["task"])


def outputs(trained: TrainedModel, ds: DomainDataset, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (N, C), or values in the labels' units for regression."""
    data = EncodedSet(trained.encode(ds), None, trained.pad_id)
    return model_outputs(trained.model, data, trained.task, batch_size)


def predict_file(run_dir: Path, spec: str, out: Path) -> pd.DataFrame:
    trained = load_run(run_dir)
    template = trained.cfg.data.source
    # The input's columns mean what the training data's did; labels are optional.
    data_spec = DataSpec(**{**template.model_dump(), "spec": spec, "split": None, "domain": None})
    ds = load_domain(data_spec)
    if trained.task == "regression":
        frame = pd.DataFrame({"id": ds.ids, "prediction": outputs(trained, ds)})
        write_text_atomic(out, frame.to_csv(index=False))
        return frame
    probs = outputs(trained, ds)
    frame = pd.DataFrame(
        {"id": ds.ids, "prediction": [trained.classes[i] for i in probs.argmax(1)]}
    )
    for j, cls in enumerate(trained.classes):
        frame[f"p_{cls}"] = probs[:, j]
    write_text_atomic(out, frame.to_csv(index=False))
    return frame
