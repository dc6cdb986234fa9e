from __future__ import annotations

from pathlib import Path

import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
from datasets import Image as HFImage
from PIL import Image

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.load import load_domain
from domainfit.errors import DataError

_FEATURES = Features(
    {
        "text": Value("string"),
        "label": ClassLabel(names=["neg", "pos"]),
        "stars": Value("float32"),
    }
)


def _reviews(n: int, offset: int = 0) -> Dataset:
    return Dataset.from_dict(
        {
            "text": [f"review {i + offset}" for i in range(n)],
            "label": [i % 2 for i in range(n)],
            "stars": [float(i % 5) for i in range(n)],
        },
        features=_FEATURES,
    )


def _load(path: Path, **kw: object) -> DomainDataset:
    return load_domain(DataSpec(spec=str(path), **kw))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One saved Dataset and two saved DatasetDicts, written once for the module."""
    root = tmp_path_factory.mktemp("hf")
    _reviews(6).save_to_disk(root / "single")
    DatasetDict({"train": _reviews(4), "test": _reviews(3, offset=100)}).save_to_disk(root / "dict")
    DatasetDict({"validation": _reviews(2), "test": _reviews(3)}).save_to_disk(root / "no_train")
    unlabelled = {"text": ["a", "b"], "label": [-1, 1], "stars": [1.0, 2.0]}
    Dataset.from_dict(unlabelled, features=_FEATURES).save_to_disk(root / "unlabelled")
    return root


def test_single_dataset(saved: Path) -> None:
    ds = _load(saved / "single")
    assert ds.kind == "text" and len(ds) == 6 and ds.domain == "single"
    assert ds.inputs[:2] == ["review 0", "review 1"]
    assert list(ds.labels) == [0, 1, 0, 1, 0, 1]
    assert ds.meta["class_names"] == ["neg", "pos"]
    assert ds.meta["hf_split"] is None


def test_dataset_dict_default_and_chosen_split(saved: Path) -> None:
    train = _load(saved / "dict")
    assert len(train) == 4 and train.meta["hf_split"] == "train"
    assert "(split train)" in train.origin
    test = _load(saved / "dict", hf_split="test", domain="reviews")
    assert len(test) == 3 and test.inputs[0] == "review 100" and test.domain == "reviews"


def test_tabular_columns(saved: Path) -> None:
    ds = _load(saved / "dict", features=["stars"])
    assert ds.kind == "tabular" and list(ds.inputs.columns) == ["stars"]


def test_missing_split_lists_splits(saved: Path) -> None:
    with pytest.raises(DataError) as err:
        _load(saved / "dict", hf_split="validation")
    assert "split 'validation' not found" in err.value.message
    assert "(splits: train, test)" in err.value.message
    with pytest.raises(DataError, match=r"no 'train' split \(splits: validation, test\)"):
        _load(saved / "no_train")
    with pytest.raises(DataError, match="single Dataset"):
        _load(saved / "single", hf_split="test")


def test_missing_label_column_lists_columns(saved: Path) -> None:
    with pytest.raises(DataError) as err:
        _load(saved / "single", label="sentiment")
    assert "column 'sentiment' not found" in err.value.message
    assert "columns: text, label, stars" in err.value.message


def test_class_label_minus_one_is_missing(saved: Path) -> None:
    ds = _load(saved / "unlabelled")
    assert list(ds.missing_labels()) == [True, False]


def test_not_a_saved_dataset(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "x.csv").write_text("a\n1\n")
    with pytest.raises(DataError, match="is not a saved Hugging Face dataset"):
        _load(tmp_path / "plain", format="hf_disk")
    with pytest.raises(DataError, match="is not a folder"):
        _load(tmp_path / "plain" / "x.csv", format="hf_disk")


def test_broken_saved_dataset(saved: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    _reviews(2).save_to_disk(broken)
    for shard in broken.glob("*.arrow"):
        shard.write_bytes(b"not arrow")
    with pytest.raises(DataError, match="cannot be read"):
        _load(broken)


def test_image_column(tmp_path: Path) -> None:
    pic = Image.new("RGB", (8, 8), (200, 10, 10))
    features = Features({"image": HFImage(), "caption": Value("string"), "label": Value("int64")})
    data = Dataset.from_dict(
        {"image": [pic, pic], "caption": ["red", "also red"], "label": [0, 1]}, features=features
    )
    data.save_to_disk(tmp_path / "pics")
    with pytest.raises(DataError) as err:
        _load(tmp_path / "pics")
    assert "column 'image'" in err.value.message and "Image column" in err.value.message
    assert "image_folder" in err.value.fix
    ds = _load(tmp_path / "pics", text="caption")  # the image column is left unused
    assert ds.inputs == ["red", "also red"] and ds.meta["ignored_media_columns"] == ["image"]
    dropped = _load(tmp_path / "pics", drop_columns=["image"])
    assert dropped.kind == "tabular" and list(dropped.inputs.columns) == ["caption"]
