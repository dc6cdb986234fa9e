"""Headerless delimited files (UCI "Sentiment Labelled Sentences": ``sentence<TAB>0/1``): read
with ``header: none`` and columns by position, ``.txt`` as lines of text, and a warning when a
header row looks like data."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

from domainfit.cli import main
from domainfit.config import DataSpec
from domainfit.config_io import load_config
from domainfit.data.load import load_domain
from domainfit.data.review_files import read_review_file
from domainfit.data.sources.header import HeaderWarning, data_like_names
from domainfit.errors import DataError

SENTENCES = [
    ("So there is no way for me to plug it in here in the US unless I go by a converter.", 0),
    ("Good case, Excellent value.", 1),
    ("Great for the jawbone.", 1),
    ('"Tied to charger" for conversations lasting more than 45 minutes.MAJOR PROBLEMS!!', 0),
    ("The mic is great.", 1),
    ("I have to jiggle the plug to get it to line up right.", 0),
]
# a line led by a quote is a quoted field to a CSV/TSV parser: .tsv tests use the others
PLAIN = [r for r in SENTENCES if not r[0].startswith('"')]


def _uci(path: Path, rows: list[tuple[str, int]] = SENTENCES) -> Path:
    path.write_text("".join(f"{s}\t{y}\n" for s, y in rows), encoding="utf-8")
    return path


def _real_sentences(shared_data: Path, n: int = 100) -> list[tuple[str, int]]:
    """First sentences of real Amazon kitchen reviews, labelled as UCI's files are."""
    rows = []
    for label, name in ((0, "negative"), (1, "positive")):
        reviews = read_review_file(
            shared_data / "amazon-reviews-blitzer/kitchen" / f"{name}.review"
        )
        for r in reviews[: n // 2]:
            first = " ".join(r["review_text"].split()).split(". ")[0]
            rows.append((first.replace("\t", " "), label))
    return rows


def test_header_none_names_columns_by_position(tmp_path: Path) -> None:
    path = _uci(tmp_path / "amazon_cells_labelled.tsv", PLAIN)
    for text, label in ((0, 1), ("0", "1")):
        ds = load_domain(DataSpec(spec=str(path), header="none", text=text, label=label))
        assert len(ds) == len(PLAIN)  # the first sentence is a sample, not a header
        assert ds.inputs[0] == PLAIN[0][0]
        assert list(ds.labels) == [y for _, y in PLAIN]
        assert ds.meta["columns"] == ["0", "1"]


def test_yaml_header_none_and_positions_from_a_config(tmp_path: Path) -> None:
    path = _uci(tmp_path / "cells.tsv", PLAIN)
    cfg_file = tmp_path / "run.yaml"
    cfg_file.write_text(
        f"data:\n  source: {{spec: {path}, header: none, text: 0, label: 1}}\n", encoding="utf-8"
    )
    spec = load_config(cfg_file).data.source
    assert (spec.header, spec.text, spec.label) == ("none", "0", "1")
    assert len(load_domain(spec)) == len(PLAIN)
    # --set spells it the same way
    over = load_config(
        {"data": {"source": str(path)}},
        ["data.source.header=none", "data.source.text=0", "data.source.label=1"],
    )
    assert len(load_domain(over.data.source)) == len(PLAIN)


def test_positions_also_pick_columns_of_a_file_with_a_header(tmp_path: Path) -> None:
    path = tmp_path / "named.csv"
    pd.DataFrame({"review": ["a b", "c d"], "stars": [1, 0]}).to_csv(path, index=False)
    ds = load_domain(DataSpec(spec=str(path), text=0, label=1))
    assert ds.inputs == ["a b", "c d"] and list(ds.labels) == [1, 0]
    assert ds.meta["text_column"] == "review"


def test_txt_is_headerless_tab_separated_text_with_quotes_kept(tmp_path: Path) -> None:
    path = _uci(tmp_path / "amazon_cells_labelled.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no header is expected of .txt: nothing to warn about
        ds = load_domain(DataSpec(spec=str(path), text=0, label=1))
    assert len(ds) == len(SENTENCES)
    assert ds.inputs[3].startswith('"Tied to charger" for')  # a quote is text, not quoting
    # the same lines as .tsv fail on that quote; the fix points at txt
    with pytest.raises(DataError, match="format=txt"):
        load_domain(DataSpec(spec=str(_uci(tmp_path / "q.tsv")), header="none"))


def test_txt_of_one_column_is_one_unlabelled_text_per_line(tmp_path: Path) -> None:
    path = tmp_path / "new.txt"
    path.write_text("first review, with a comma\n\nNA\nthird; it has | odd marks\n")
    ds = load_domain(str(path))
    assert ds.kind == "text"
    assert ds.inputs == ["first review, with a comma", "NA", "third; it has | odd marks"]
    assert ds.labels is None


def test_txt_with_a_header_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "h.txt"
    path.write_text("sentence\tscore\nfine item\t1\nbad item\t0\n")
    ds = load_domain(DataSpec(spec=str(path), header="first_row", text="sentence", label="score"))
    assert ds.inputs == ["fine item", "bad item"]


def test_headerless_tsv_read_with_a_header_warns(tmp_path: Path) -> None:
    path = _uci(tmp_path / "cells.tsv", PLAIN)
    with pytest.warns(HeaderWarning, match="header: none") as seen:
        load_domain(str(path))
    message = str(seen[0].message)
    assert "reads like a sentence" in message and "'0' (a number)" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_domain(DataSpec(spec=str(path), header="first_row"))  # told: no warning


def test_real_reviews_headerless_warned_then_read_whole(tmp_path: Path, shared_data: Path) -> None:
    rows = _real_sentences(shared_data)
    path = tmp_path / "kitchen_labelled.tsv"
    pd.DataFrame(rows).to_csv(path, sep="\t", header=False, index=False)
    with pytest.warns(HeaderWarning):
        assert len(load_domain(str(path))) == len(rows) - 1
    ds = load_domain(DataSpec(spec=str(path), header="none", text=0, label=1))
    assert len(ds) == len(rows) and ds.inputs[0] == rows[0][0]


@pytest.mark.parametrize(
    "header",
    [
        ["id", "text", "score", "label"],
        ["0", "1", "2", "3"],  # positions as names, as to_csv writes a headerless frame
        ["review text", "label"],
        ["Unnamed: 0", "text"],
    ],
)
def test_ordinary_headers_do_not_warn(header: list[str]) -> None:
    values = {h: [f"v{i} x" for i in range(3)] for h in header}
    assert data_like_names(pd.DataFrame(values)) == []


@pytest.mark.parametrize(
    ("header", "column", "why"),
    [
        ("Great product, works well.", ["ok item"], "reads like a sentence"),
        ("1", [0, 1, 1], "a number"),
        ("positive", ["negative", "positive"], "also a value in its column"),
    ],
)
def test_data_like_headers(header: str, column: list[object], why: str) -> None:
    found = data_like_names(pd.DataFrame({header: column, "other": ["x"] * len(column)}))
    assert len(found) == 1 and why in found[0]


def test_audit_cli_header_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_data: Path
) -> None:
    path = tmp_path / "kitchen_labelled.tsv"
    pd.DataFrame(_real_sentences(shared_data)).to_csv(path, sep="\t", header=False, index=False)
    report = tmp_path / "audit.json"
    args = ["audit", str(path), "--header", "none", "--text", "0", "--label", "1"]
    assert main([*args, "--json", str(report), "--quiet"]) == 0
    domains = yaml.safe_load(report.read_text())["domains"]
    assert domains[0]["samples"] == 100 and domains[0]["classes"] == 2
    code = main(["audit", str(path), "--header", "nope", "--quiet"])
    assert code == 2 and "header" in capsys.readouterr().err
