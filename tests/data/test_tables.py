from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from domainfit.config import DataSpec
from domainfit.data.load import load_domain
from domainfit.errors import DataError


def _spec(path: Path, **kw: object) -> DataSpec:
    return DataSpec(spec=str(path), **kw)


def test_csv_text_with_label(planted_csv: Path) -> None:
    ds = load_domain(_spec(planted_csv, text="text", label="label"))
    assert ds.kind == "text" and len(ds) == 20
    assert ds.inputs[17] is None
    assert ds.missing_labels().sum() == 1
    assert ds.ids[0] == "row 1" and ds.domain == "planted"


def test_csv_tabular_default_features(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("a,b,c,label\n1,x,2.5,yes\n2,y,3.5,no\n")
    ds = load_domain(_spec(p))
    assert ds.kind == "tabular"
    assert list(ds.inputs.columns) == ["a", "b", "c"]
    assert list(ds.labels) == ["yes", "no"]


def test_tsv_and_parquet_and_jsonl(tmp_path: Path) -> None:
    df = pd.DataFrame({"text": ["a b", "c d", "e f"], "label": [1, 0, 1], "g": ["u", "u", "v"]})
    df.to_csv(tmp_path / "x.tsv", sep="\t", index=False)
    df.to_parquet(tmp_path / "x.parquet")
    (tmp_path / "x.jsonl").write_text(
        "\n".join(json.dumps(r) for r in df.to_dict("records")) + "\n"
    )
    for name in ("x.tsv", "x.parquet", "x.jsonl"):
        ds = load_domain(_spec(tmp_path / name, group="g"))
        assert ds.inputs == ["a b", "c d", "e f"], name
        assert list(ds.labels) == [1, 0, 1]
        assert list(ds.groups) == ["u", "u", "v"]


def test_time_column_parsed(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("v,when,label\n1,2024-01-02,0\n2,2024-01-01,1\n")
    ds = load_domain(_spec(p, time="when"))
    assert ds.times[0] > ds.times[1]


@pytest.mark.parametrize(
    ("content", "kwargs", "needle"),
    [
        (b"", {}, "is empty"),
        (
            "text,label\ncaf\xe9,1\n".encode("latin-1"),
            {},
            r"not valid UTF-8 \(byte 0xe9 on line 2\)",
        ),
        (b"a;b;label\n1;2;0\n", {}, "set data.source.delimiter=';'"),
        (
            b"a,b,y\n1,2,0\n",
            {"label": "label"},
            "column 'label' not found in .* \\(columns: a, b, y\\)",
        ),
        (
            b"a,b,label\n1,,0\n2,,1\n",
            {"features": ["b"], "text": None, "label": "b"},
            "entirely empty",
        ),
        (b"text,label\n,1\n,0\n", {"text": "text"}, "column 'text' .* is entirely empty"),
    ],
)
def test_bad_csv(tmp_path: Path, content: bytes, kwargs: dict, needle: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(DataError, match=needle):
        load_domain(_spec(p, **kwargs))


def test_missing_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_domain(str(tmp_path / "nope.csv"))
    odd = tmp_path / "data.xyz"
    odd.write_text("x")
    with pytest.raises(DataError, match="set data.source.format"):
        load_domain(str(odd))


def test_bad_jsonl_line(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"text": "a", "label": 1}\n{oops}\n')
    with pytest.raises(DataError, match="line 2 is not valid JSON"):
        load_domain(str(p))


def test_encoding_option_reads_latin1(tmp_path: Path) -> None:
    p = tmp_path / "l.csv"
    p.write_bytes("text,label\ncaf\xe9,1\nthé,0\n".encode("latin-1"))
    ds = load_domain(_spec(p, encoding="latin-1"))
    assert ds.inputs[0] == "café"


def test_predefined_split_values_checked(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("text,label,part\na,1,train\nb,0,holdout\n")
    with pytest.raises(DataError, match="holdout"):
        load_domain(_spec(p, split="part"))


def test_integer_labels_with_missing_stay_integers(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("text,label\na,1\nb,\nc,0\n")
    ds = load_domain(str(p))
    assert ds.labels[0] == 1 and isinstance(ds.labels[0], int)
    assert ds.missing_labels().tolist() == [False, True, False]
    assert ds.labels.dtype == object
