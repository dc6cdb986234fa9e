"""Use a finished run: rebuild its model from the saved config and best weights, then predict."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
from domainfit.evaluate.split_report import sample_losses, split_evaluation
from domainfit.io_utils import write_text_atomic
from domainfit.models.backbone import load_backbone
from domainfit.models.heads import TransferModel, build_head, head_outputs
from domainfit.models.inputs import input_encoder
from domainfit.predict_input import PredictData, Reader, from_texts, read_new


@dataclass
class TrainedModel:
    cfg: RunConfig
    model: TransferModel
    encode: Any
    pad_id: int
    classes: list[str]
    task: str
    # what predict writes for each class: named sets' class names where classes are their codes
    names: list[str] = field(default_factory=list)


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
    # the trained weights replace the pretrained ones: no hub fetch for weights thrown away
    architecture = cfg.model.model_copy(update={"allow_download": False})
    backbone = load_backbone(architecture, input_width=meta.get("input_width"))
    regression = meta["task"] == "regression"
    outputs = head_outputs(meta["task"], len(meta["classes"]))
    head = build_head(backbone.out_features, outputs, cfg.model.head, rescale=regression)
    model = TransferModel(backbone, head)
    model.load_state_dict(load_file(str(weights)))
    model.eval()
    encode, pad_id = input_encoder(backbone, cfg.model, preprocessor)
    names = meta.get("class_names") or meta["classes"]
    return TrainedModel(cfg, model, encode, pad_id, meta["classes"], meta["task"], names)


def outputs(trained: TrainedModel, ds: DomainDataset, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (N, C), or values in the labels' units for regression."""
    data = EncodedSet(trained.encode(ds), None, trained.pad_id)
    return model_outputs(trained.model, data, trained.task, batch_size)


def load_like_training(trained: TrainedModel, spec: str) -> DomainDataset:
    """New data read as the training data was: its columns mean what the training data's did;
    labels are optional."""
    template = trained.cfg.data.source
    data_spec = DataSpec(**{**template.model_dump(), "spec": spec, "split": None, "domain": None})
    return load_domain(data_spec)


def label_targets(trained: TrainedModel, ds: DomainDataset, spec: str) -> np.ndarray | None:
    """Class ids (or float targets) of ``ds``'s labels; None when it has none. Classes the model
    never saw are refused: no metric could count them right."""
    if ds.labels is None or ds.missing_labels().all():
        return None
    if ds.missing_labels().any():
        raise ConfigError(
            f"{spec}: {int(ds.missing_labels().sum())} samples have no label",
            "drop the unlabelled rows, or use predict for them",
        )
    if trained.task == "regression":
        return ds.labels.astype(np.float64)
    index = {c: i for i, c in enumerate(trained.classes)}
    labels = [str(v) for v in ds.labels]
    if set(labels) - set(index):
        labels = by_class_name(ds, labels, set(index))
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise ConfigError(
            f"{spec} has labels the model never saw: {', '.join(unknown[:5])} "
            f"(it knows {', '.join(trained.classes[:10])})",
            "evaluate on data with the training classes",
        )
    return np.array([index[v] for v in labels], dtype=np.int64)


def by_class_name(ds: DomainDataset, labels: list[str], known: set[str]) -> list[str]:
    """Named sets hold labels as codes with ``meta["class_names"]``; a model trained on folders
    of the same classes knows them by name (PACS as ``pacs:art_painting`` or as a folder)."""
    names = ds.meta.get("class_names")
    if not names or not np.issubdtype(np.asarray(ds.labels).dtype, np.integer):
        return labels
    codes = np.asarray(ds.labels)
    if codes.min() < 0 or codes.max() >= len(names) or not set(names) <= known:
        return labels
    return [str(names[int(c)]) for c in codes]


def predict_file(
    run_dir: Path,
    data: PredictData,
    out: Path | None = None,
    *,
    text: str | None = None,
    id: str | None = None,
    header: str | None = None,
    ids: list[str] | None = None,
) -> pd.DataFrame:
    """Predictions for new data, labelled or not: id, text (text models) and the input's other
    columns, then label (when every row has one the model knows), prediction, loss (likewise)
    and p:<class> per class. ``ids`` with a list of texts: their names (stdin's line numbers).
    Written to ``out`` as CSV when given."""
    trained = load_run(run_dir)
    reader = Reader(trained.cfg.data.source, trained.model.backbone_info.modality)
    if ids is not None and isinstance(data, list):
        new = from_texts(reader, data, ids, "<stdin>")
    else:
        new = read_new(reader, data, text=text, id=id, header=header)
    probs = outputs(trained, new.ds)
    frame = new.columns.copy()
    y = _scored(trained, new.ds, new.origin)
    names = np.asarray(trained.names, dtype=object)
    if y is not None:
        if new.label_column is not None:
            frame = frame.drop(columns=[new.label_column])
        frame["label"] = y if trained.task == "regression" else names[y]
    frame["prediction"] = probs if trained.task == "regression" else names[probs.argmax(1)]
    if y is not None:
        frame["loss"] = sample_losses(trained.task, y, probs)
    if trained.task != "regression":
        for j, name in enumerate(trained.names):
            frame[f"p:{name}"] = probs[:, j]
    if out is not None:
        write_text_atomic(out, frame.to_csv(index=False))
    return frame


def _scored(trained: TrainedModel, ds: DomainDataset, origin: str) -> np.ndarray | None:
    """Targets when every sample has a label the model knows; predict needs none, so labels it
    cannot score (partial, unseen classes, text in a regression) are passed through instead."""
    if ds.labels is None or ds.missing_labels().any():
        return None
    try:
        return label_targets(trained, ds, origin)
    except (ConfigError, ValueError, TypeError):
        return None


def evaluate_file(run_dir: Path, spec: str) -> dict[str, Any]:
    """The run's model on new labelled data, with the same metrics and intervals as its own
    evaluation (see split_evaluation)."""
    trained = load_run(run_dir)
    ds = load_like_training(trained, spec)
    y = label_targets(trained, ds, spec)
    if y is None:
        raise ConfigError(f"{spec} has no labels to evaluate against", "use predict instead")
    return split_evaluation(y, outputs(trained, ds), trained.task, trained.classes)
