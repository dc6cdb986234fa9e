"""``predict`` on new, unlabelled data: the run was trained on a headerless UCI-style file
(``text: 0``, ``label: 1``); new files have no label column, an empty or partial one, another
text column name, or are raw lines on stdin; the output joins back on id and text."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import domainfit
from domainfit.cli import main
from domainfit.errors import ConfigError, DataError
from tests.models.tiny import save_tiny_bert, write_reviews_csv

GOOD, BAD = "great love works item", "awful hate broke item"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("uci-run")
    bert = save_tiny_bert(tmp / "bert")
    reviews = pd.read_csv(write_reviews_csv(tmp / "r.csv"))
    reviews.to_csv(tmp / "train.txt", sep="\t", header=False, index=False)
    cfg = {
        "data": {"source": {"spec": str(tmp / "train.txt"), "text": 0, "label": 1}},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "train": {"epochs": 4, "batch_size": 8, "lr": 5e-3, "optimizer": "adamw"},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp / "run")
    assert run.metrics["source.test.accuracy"] >= 0.9
    return run.dir


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--quiet"])
    return code, capsys.readouterr().err


def test_file_without_label_column_keeps_id_and_text(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.csv"
    pd.DataFrame({"review_id": ["a7", "b9"], "body": [GOOD, BAD], "shop": ["x", "y"]}).to_csv(
        new, index=False
    )
    out = tmp_path / "preds.csv"
    args = ["predict", str(run_dir), str(new), "--text", "body", "--id", "review_id"]
    code, err = _cli(capsys, *args, "--out", str(out))
    assert code == 0, err
    preds = pd.read_csv(out)
    assert list(preds.columns) == ["id", "text", "shop", "prediction", "p:0", "p:1"]
    assert preds["id"].tolist() == ["a7", "b9"] and preds["text"].tolist() == [GOOD, BAD]
    assert preds["prediction"].tolist() == [1, 0]
    assert np.allclose(preds[["p:0", "p:1"]].sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("labels", "scored"),
    [([None, None], False), ([1, None], False), ([1, 0], True), (["pos", "neg"], False)],
)
def test_label_column_scored_only_when_every_row_has_a_known_label(
    run_dir: Path, tmp_path: Path, labels: list[object], scored: bool
) -> None:
    """Headerless like the training file: column 1 is the training label column."""
    new = tmp_path / "new.tsv"
    pd.DataFrame({"t": [GOOD, BAD], "y": labels}).to_csv(new, sep="\t", header=False, index=False)
    preds = domainfit.predict(run_dir, str(new), header="none")
    if scored:
        assert list(preds.columns) == ["id", "text", "label", "prediction", "loss", "p:0", "p:1"]
        assert preds["label"].tolist() == ["1", "0"] and (preds["loss"] < 0.5).all()
    else:  # passed through as the input had it, no loss
        assert list(preds.columns) == ["id", "text", "1", "prediction", "p:0", "p:1"]
    assert preds["id"].tolist() == ["row 1", "row 2"]  # no header: row 1 is the first line
    assert preds["prediction"].tolist() == ["1", "0"]


def test_txt_one_text_per_line(run_dir: Path, tmp_path: Path) -> None:
    new = tmp_path / "lines.txt"
    new.write_text(f'{GOOD}\n\n"{BAD}", said one\n')
    out = tmp_path / "p.csv"
    preds = domainfit.predict(run_dir, new, out=out)
    assert preds["text"].tolist() == [GOOD, f'"{BAD}", said one']
    assert preds["prediction"].tolist() == ["1", "0"]
    assert pd.read_csv(out).shape == (2, 5)


def test_stdin_lines(
    run_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{GOOD}\n\n{BAD}\n"))
    out = tmp_path / "stdin.csv"
    code, err = _cli(capsys, "predict", str(run_dir), "-", "--out", str(out))
    assert code == 0, err
    preds = pd.read_csv(out)
    assert preds["id"].tolist() == ["line 1", "line 3"]
    assert preds["text"].tolist() == [GOOD, BAD] and preds["prediction"].tolist() == [1, 0]
    code, err = _cli(capsys, "predict", str(run_dir), "-", "--text", "0")
    assert code == 2 and "stdin has no columns" in err


def test_api_list_and_dataframe(run_dir: Path) -> None:
    from_list = domainfit.predict(run_dir, [GOOD, BAD])
    assert list(from_list.columns) == ["id", "text", "prediction", "p:0", "p:1"]
    assert from_list["prediction"].tolist() == ["1", "0"]
    df = pd.DataFrame({"comment": [BAD, GOOD], "n": [3, 4]}, index=[10, 20])
    preds = domainfit.predict(run_dir, df, text="comment")
    assert preds["id"].tolist() == ["10", "20"]  # the frame's index: df.join works on it
    assert preds["n"].tolist() == [3, 4] and preds["prediction"].tolist() == ["0", "1"]
    # training's "text: 0" is a position in headerless files only: here the id is no text
    framed = pd.DataFrame({"id": ["k1"], "body": [GOOD]})
    assert domainfit.predict(run_dir, framed)[["id", "text"]].values.tolist() == [["k1", GOOD]]
    # a frame of one column: that is the text
    assert domainfit.predict(run_dir, df[["comment"]])["prediction"].tolist() == ["0", "1"]


def test_bad_requests_are_one_line_errors(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "two.csv"
    pd.DataFrame({"a": [GOOD], "b": [BAD]}).to_csv(new, index=False)
    out = tmp_path / "never.csv"
    code, err = _cli(capsys, "predict", str(run_dir), str(new), "--text", "c", "--out", str(out))
    assert code == 2 and "column 'c' not found" in err and "--text" in err
    assert not out.exists()
    with pytest.raises(DataError, match="has no column '0'.*--text"):
        domainfit.predict(run_dir, pd.DataFrame({"a": [GOOD], "b": [BAD]}).iloc[:, [0, 1]])
    with pytest.raises(DataError, match="pass strings only"):
        domainfit.predict(run_dir, [GOOD, 3])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="header 'no'"):
        domainfit.predict(run_dir, str(new), header="no")  # type: ignore[arg-type]


def test_stdin_refused_for_a_model_that_does_not_read_text(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(size=60), "z": rng.normal(size=60)})
    table["label"] = np.where(table["x"] > 0, "yes", "no")
    table.to_csv(tmp_path / "t.csv", index=False)
    cfg = {
        "data": {"source": str(tmp_path / "t.csv")},
        "model": {"backbone": "mlp:8"},
        "train": {"epochs": 2, "batch_size": 16},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    with pytest.raises(ConfigError, match="reads features data, not lines of text"):
        domainfit.predict(run.dir, ["some text"])
    unlabelled = table.drop(columns=["label"]).assign(id=[f"s{i}" for i in range(60)])
    preds = domainfit.predict(run.dir, unlabelled)
    assert list(preds.columns) == ["id", "prediction", "p:no", "p:yes"]  # features not copied
    assert preds["id"].iloc[0] == "s0"


def test_named_set_class_names_in_predictions(tmp_path: Path, shared_data: Path) -> None:
    """Amazon reviews hold labels as codes 0/1: predictions say negative/positive."""
    bert = save_tiny_bert(tmp_path / "bert")
    cfg = {
        "data": {"source": "amazon-reviews:kitchen", "limit": 40},
        "model": {"backbone": f"hf:{bert}", "max_length": 16},
        "train": {"epochs": 1, "batch_size": 8},
        "track": {"enabled": False},
    }
    run = domainfit.fit(cfg, out=tmp_path / "run")
    meta = json.loads((run.dir / "model" / "model.json").read_text())
    assert meta["classes"] == ["0", "1"] and meta["class_names"] == ["negative", "positive"]
    preds = domainfit.predict(run.dir, [GOOD])
    assert list(preds.columns)[-2:] == ["p:negative", "p:positive"]
    assert preds["prediction"].iloc[0] in ("negative", "positive")
