"""``fit`` end to end on tiny saved models: text through hf:, images through timm:."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import domainfit
from domainfit.errors import ConfigError
from tests.models.tiny import save_tiny_bert, write_image_folder, write_reviews_csv


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def _text_config(tmp: Path, bert: Path, **train: object) -> dict:
    csv = write_reviews_csv(tmp / "reviews.csv")
    return {
        "name": "tiny-text",
        "data": {"source": str(csv)},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "train": {"epochs": 4, "batch_size": 8, "lr": 5e-3, "optimizer": "adamw", **train},
        "track": {"enabled": False},
    }


def test_fit_text_full_fine_tuning(tmp_path: Path, bert_dir: Path) -> None:
    run = domainfit.fit(_text_config(tmp_path, bert_dir), out=tmp_path / "run")
    assert run.metrics["source.test.accuracy"] >= 0.9
    for name in (
        "config.yaml",
        "metrics.jsonl",
        "metrics.json",
        "model/model.safetensors",
        "model/model.json",
    ):
        assert (run.dir / name).is_file(), name
    meta = json.loads((run.dir / "model" / "model.json").read_text())
    assert meta["classes"] == ["0", "1"] and meta["task"] == "binary"
    assert len((run.dir / "metrics.jsonl").read_text().splitlines()) == 4
    saved = yaml.safe_load((run.dir / "config.yaml").read_text())
    assert saved["model"]["backbone"] == f"hf:{bert_dir}"


def test_fit_frozen_keeps_backbone(tmp_path: Path, bert_dir: Path) -> None:
    from safetensors.torch import load_file
    from transformers import BertModel

    cfg = _text_config(tmp_path, bert_dir)
    cfg["strategy"] = {"name": "frozen"}
    run = domainfit.fit(cfg, out=tmp_path / "run")
    trained = load_file(str(run.dir / "model" / "model.safetensors"))
    original = BertModel.from_pretrained(bert_dir).state_dict()
    key = "encoder.model.encoder.layer.1.output.dense.weight"
    assert (trained[key] == original["encoder.layer.1.output.dense.weight"]).all()


def test_fit_images_with_timm(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "imgs", n=16)
    cfg = {
        "name": "tiny-images",
        "data": {"source": str(root)},
        "model": {"backbone": "timm:resnet10t", "image_size": 16},
        "train": {"epochs": 3, "batch_size": 8, "lr": 1e-2},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert run.metrics["source.test.accuracy"] >= 0.8
    examples = json.loads((run.dir / "examples" / "source.test.json").read_text())
    assert examples["kind"] == "image"
    assert all(e["image"].startswith("data:image/png;base64,") for e in examples["examples"])


def test_bad_config_leaves_no_run_folder(tmp_path: Path) -> None:
    cfg = {
        "data": {"source": str(write_reviews_csv(tmp_path / "r.csv"))},
        "model": {"backbone": "hf:not/here"},
    }
    with pytest.raises(ConfigError, match="downloads are off"):
        domainfit.fit(cfg, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_predict_writes_labels_and_probabilities(tmp_path: Path, bert_dir: Path) -> None:
    import numpy as np
    import pandas as pd

    from domainfit.cli import main

    run = domainfit.fit(_text_config(tmp_path, bert_dir), out=tmp_path / "run")
    new = write_reviews_csv(tmp_path / "new.csv", n=40, seed=5)
    out = tmp_path / "preds.csv"
    assert main(["predict", str(run.dir), str(new), "--out", str(out), "--quiet"]) == 0
    preds = pd.read_csv(out)
    truth = pd.read_csv(new)["label"]
    assert list(preds.columns) == ["id", "text", "label", "prediction", "loss", "p:0", "p:1"]
    assert np.allclose(preds[["p:0", "p:1"]].sum(axis=1), 1.0, atol=1e-5)
    assert (preds["prediction"] == truth).mean() >= 0.9


def test_inspect_shows_what_trains(tmp_path: Path, bert_dir: Path) -> None:
    cfg = _text_config(tmp_path, bert_dir)
    full = domainfit.api.inspect(cfg)
    assert [r["group"] for r in full] == ["embeddings", "layer.0", "layer.1", "pooler", "head"]
    assert all(r["trains"] and r["lr"] == 5e-3 for r in full)
    cfg["strategy"] = {"name": "frozen"}
    frozen = domainfit.api.inspect(cfg)
    assert [r["trains"] for r in frozen] == [False, False, False, False, True]
    assert frozen[-1]["params"] == 33  # 32 features + bias, one logit for two classes


def test_tracking_contents(tmp_path: Path, bert_dir: Path) -> None:
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg = _text_config(tmp_path, bert_dir, epochs=2)
    cfg["track"] = {"enabled": True, "uri": uri, "experiment": "tests"}
    run = domainfit.fit(cfg, out=tmp_path / "run")
    client = mlflow.MlflowClient(tracking_uri=uri)
    run_id = (run.dir / "mlflow_run_id").read_text().strip()
    logged = client.get_run(run_id)
    assert logged.info.status == "FINISHED"
    assert logged.data.params["train.lr"] == "0.005"
    assert logged.data.params["model.backbone"] == f"hf:{bert_dir}"
    assert len(logged.data.tags["split.source.train"]) == 16
    assert logged.data.tags["version.torch"] == torch_version()
    history = client.get_metric_history(run_id, "val.loss")
    assert [m.step for m in history] == [1, 2]  # the epoch, counted from 1 as metrics.jsonl
    assert logged.data.metrics["final.source.test.accuracy"] == run.metrics["source.test.accuracy"]
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.yaml", "metrics.json"} <= artifacts
    # artifacts beside the SQLite file, not in ./mlruns of wherever the command ran
    where = client.get_experiment_by_name("tests").artifact_location
    assert where == (tmp_path / "mlartifacts").resolve().as_uri()
    assert list((tmp_path / "mlartifacts").rglob("config.yaml"))
    # two epochs wrote two checkpoints; the finished run keeps its best model only (by default)
    assert not (run.dir / "checkpoints").exists()
    assert (run.dir / "model" / "model.safetensors").is_file()
    with pytest.raises(ConfigError, match="kept no checkpoint to resume from"):
        domainfit.fit(resume=run.dir)

    from domainfit.cli import main

    listed = tmp_path / "runs.json"
    assert main(["runs", "--uri", uri, "--experiment", "tests", "--json", str(listed)]) == 0
    rows = json.loads(listed.read_text())
    assert rows[0]["status"] == "FINISHED" and rows[0]["run_dir"] == str(run.dir)
    assert rows[0]["test_accuracy"] == run.metrics["source.test.accuracy"]
    assert rows[0]["test_split"] == "source.test" and rows[0]["approach"] == "full"
    assert rows[0]["bytes"] > 100_000  # the model and the checkpoint, measured on disk


def torch_version() -> str:
    from importlib import metadata

    return metadata.version("torch")


@pytest.mark.parametrize("modality", ["text", "image"])
def test_onnx_export_matches_pytorch(tmp_path: Path, bert_dir: Path, modality: str) -> None:
    import numpy as np
    import onnxruntime as ort
    import torch

    from domainfit.export import export_run
    from domainfit.inference import load_run

    if modality == "text":
        cfg = _text_config(tmp_path, bert_dir, epochs=1)
    else:
        cfg = {
            "data": {"source": str(write_image_folder(tmp_path / "imgs", n=8))},
            "model": {"backbone": "timm:resnet10t", "image_size": 16},
            "train": {"epochs": 1, "batch_size": 8},
            "track": {"enabled": False},
        }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    out = export_run(run.dir, "onnx", tmp_path / "export")
    assert {"model.onnx", "model.safetensors", "model.json", "config.yaml"} <= {
        p.name for p in out.iterdir()
    }
    trained = load_run(run.dir)
    gen = torch.Generator().manual_seed(0)
    if modality == "text":  # another batch size and length than the export example
        ids = torch.randint(5, 17, (3, 11), generator=gen)
        mask = torch.ones_like(ids)
        mask[0, 7:] = 0
        feeds = {"input_ids": ids, "attention_mask": mask}
        with torch.no_grad():
            ref = trained.model(feeds).numpy()
    else:
        x = torch.randn(3, 3, 16, 16, generator=gen)
        feeds = {"x": x}
        with torch.no_grad():
            ref = trained.model(feeds).numpy()
    session = ort.InferenceSession(str(out / "model.onnx"))
    got = session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)


def test_bf16_mixed_precision_on_cpu(tmp_path: Path, bert_dir: Path) -> None:
    run = domainfit.fit(_text_config(tmp_path, bert_dir, precision="bf16"), out=tmp_path / "run")
    assert run.metrics["source.test.accuracy"] >= 0.8


def test_fit_images_with_hf_vision_model(tmp_path: Path) -> None:
    """A ViT saved with save_pretrained goes through hf: (AutoModel), then predict reloads it."""
    from transformers import ViTConfig, ViTModel

    vit_dir = tmp_path / "tiny-vit"
    config = ViTConfig(
        image_size=16,
        patch_size=4,
        num_channels=3,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    ViTModel(config).save_pretrained(vit_dir)
    root = write_image_folder(tmp_path / "imgs", n=16)
    cfg = {
        "name": "tiny-vit",
        "data": {"source": str(root)},
        "model": {"backbone": f"hf:{vit_dir}", "image_size": 16},
        "train": {"epochs": 4, "batch_size": 8, "lr": 3e-3},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert run.metrics["source.test.accuracy"] >= 0.8
    preds = domainfit.predict(run.dir, str(root), out=tmp_path / "preds.csv")
    assert len(preds) == len(list(root.rglob("*.png")))


def test_fit_regression_learns_in_label_units(tmp_path: Path, bert_dir: Path) -> None:
    import pandas as pd

    reviews = pd.read_csv(write_reviews_csv(tmp_path / "r.csv", n=120))
    # a price-like target far from unit scale: the head must rescale, the loss must not explode
    reviews["label"] = 1000.0 + 400.0 * reviews["label"]
    reviews.to_csv(tmp_path / "prices.csv", index=False)
    cfg = _text_config(tmp_path, bert_dir)
    cfg["data"] = {"source": str(tmp_path / "prices.csv"), "task": "regression"}
    run = domainfit.fit(cfg, out=tmp_path / "run")
    assert run.metrics["source.test.mae"] < 100.0  # predicting the mean would give 200
    assert "source.test.accuracy" not in run.metrics
    preds = domainfit.predict(run.dir, str(tmp_path / "prices.csv"), out=tmp_path / "p.csv")
    assert list(preds.columns) == ["id", "text", "label", "prediction", "loss"]  # labelled input
    assert abs(preds["prediction"] - reviews["label"]).mean() < 100.0


def test_evaluate_on_new_data_and_refusals(tmp_path: Path, bert_dir: Path) -> None:
    import pandas as pd

    from domainfit.cli import main

    run = domainfit.fit(_text_config(tmp_path, bert_dir), out=tmp_path / "run")
    own = domainfit.evaluate(run.dir)  # its own splits, as fit wrote them
    assert own["source.test"]["metrics"]["accuracy"] == run.metrics["source.test.accuracy"]
    new = write_reviews_csv(tmp_path / "new.csv", n=60, seed=7)
    report = tmp_path / "eval.json"
    assert main(["evaluate", str(run.dir), "--data", str(new), "--json", str(report)]) == 0
    got = json.loads(report.read_text())["new.csv"]
    preds = domainfit.predict(run.dir, str(new), out=tmp_path / "p.csv")
    truth = pd.read_csv(new)["label"].astype(str)
    assert got["n"] == 60
    right = (preds["prediction"].astype(str) == truth).mean()
    assert got["metrics"]["accuracy"] == pytest.approx(right)
    lo, hi = got["ci"]["accuracy"]
    assert lo <= got["metrics"]["accuracy"] <= hi
    odd = tmp_path / "odd.csv"
    pd.DataFrame({"text": ["great", "awful"], "label": ["0", "maybe"]}).to_csv(odd, index=False)
    assert main(["evaluate", str(run.dir), "--data", str(odd)]) == 2  # a class it never saw
