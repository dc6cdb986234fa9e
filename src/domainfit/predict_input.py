"""New data for ``predict``: read as the training data was where that makes sense, but without
needing its labels, and with the input columns a user joins the predictions back on.

Labels are optional here: a label column (the training one, by name or position) is scored only
when every row has a label the model knows; otherwise it passes through like any other column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO, cast

import pandas as pd

from domainfit.config import DataSpec
from domainfit.data import benchmarks
from domainfit.data.dataset import DomainDataset
from domainfit.data.load import detect_format, load_domain, resolve_path
from domainfit.data.sources.table import frame_to_dataset
from domainfit.data.sources.tables import TABLE_FORMATS, read_frame
from domainfit.errors import ConfigError, DataError

PredictData = str | Path | pd.DataFrame | Sequence[str]
Header = Literal["auto", "first_row", "none"]
HEADERS: tuple[Header, ...] = ("auto", "first_row", "none")
# columns the output writes itself: an input column of such a name is kept as input:<name>
RESERVED = ("id", "text", "label", "prediction", "loss")


@dataclass(frozen=True)
class Reader:
    """What the trained model reads: its training data spec and its backbone's input kind."""

    template: DataSpec
    modality: str

    @property
    def reads_text(self) -> bool:
        return self.modality == "text"


@dataclass
class NewData:
    """``ds`` for the model (labels only when every row has one); ``columns``: what the output
    shows before the predictions (id, text, the input's other columns); ``label_column``: the
    name in ``columns`` of the input's label column, replaced by the scored labels if any."""

    ds: DomainDataset
    columns: pd.DataFrame
    label_column: str | None
    origin: str


def read_new(
    reader: Reader,
    data: PredictData,
    *,
    text: str | None = None,
    id: str | None = None,
    header: str | None = None,
) -> NewData:
    if header is not None and header not in HEADERS:
        raise ConfigError(f"header {header!r} is not known", f"use {', '.join(HEADERS)}")
    if isinstance(data, pd.DataFrame):
        ids = [str(i) for i in data.index]  # the caller's index: joins back with df.join
        return from_frame(reader, data, "<pandas DataFrame>", ids, text=text, id=id)
    if isinstance(data, str | Path):
        return from_spec(reader, str(data), text=text, id=id, header=cast(Header, header))
    if isinstance(data, Sequence):
        return from_texts(reader, list(data), [str(i) for i in range(len(data))], "<list>")
    raise DataError(
        f"cannot predict on a {type(data).__name__}",
        "pass a path, a named set, a pandas DataFrame or a list of strings",
    )


def from_texts(reader: Reader, texts: list[object], ids: list[str], origin: str) -> NewData:
    """Raw strings (a list, or stdin's lines) for a text model."""
    if not reader.reads_text:
        raise ConfigError(
            f"this run's model reads {reader.modality} data, not lines of text",
            "pass a file or folder of the data it was trained on",
        )
    if not texts:
        raise DataError(f"{origin} holds no text to predict", "give at least one text")
    odd = next((t for t in texts if not isinstance(t, str)), None)
    if odd is not None:
        raise DataError(
            f"{origin} holds a {type(odd).__name__} among its texts", "pass strings only"
        )
    ds = DomainDataset(domain="input", kind="text", inputs=list(texts), ids=ids, origin=origin)
    return NewData(ds, pd.DataFrame({"id": ids, "text": texts}), None, origin)


def from_spec(
    reader: Reader,
    spec: str,
    *,
    text: str | None = None,
    id: str | None = None,
    header: Header | None = None,
) -> NewData:
    template = reader.template
    if benchmarks.is_named(spec):
        return _loaded(reader, load_domain(spec), spec, id, header)
    path = resolve_path(spec, None)
    # a file like the training file is read like it; any other by its own extension
    same_kind = not benchmarks.is_named(template.spec) and (
        path.suffix.lower() == Path(template.spec).suffix.lower()
    )
    fmt = template.format if same_kind and template.format != "auto" else detect_format(path)
    if fmt not in TABLE_FORMATS:
        given = {**template.model_dump(), "spec": spec, "split": None, "domain": None}
        given.update(format=fmt, text=text or template.text)
        return _loaded(reader, load_domain(DataSpec(**given)), str(path), id, header)
    read_spec = DataSpec.model_validate(
        {
            "spec": spec,
            "format": fmt,
            "delimiter": template.delimiter if same_kind else None,
            "header": header or (template.header if same_kind else "auto"),
            "encoding": template.encoding if same_kind else "utf-8",
        }
    )
    df, ids = read_frame(read_spec, path, fmt)
    if df.shape[0] == 0:
        raise DataError(f"{path} has a header but no rows", "add data or pick another file")
    row_ids = ids or [f"row {i + 1}" for i in range(len(df))]
    return from_frame(reader, df, str(path), row_ids, text=text, id=id)


def from_frame(
    reader: Reader,
    df: pd.DataFrame,
    origin: str,
    ids: list[str],
    *,
    text: str | None = None,
    id: str | None = None,
) -> NewData:
    frame = df.rename(columns=str).reset_index(drop=True)
    columns = list(frame.columns)
    id_col = _given(id, columns, origin, "--id (API: id=)") if id is not None else None
    if id_col is None and "id" in columns:
        id_col = "id"
    # the training names by name only: a position means another column in a file with a header
    label_col = reader.template.label or "label"
    label_col = label_col if label_col in columns and label_col != id_col else None
    text_col = _text_column(reader, text, columns, origin, {id_col, label_col})
    labelled = label_col is not None and bool(frame[label_col].notna().all())
    spec = DataSpec(
        spec=origin,
        text=text_col,
        label=label_col if labelled else None,
        features=None if reader.reads_text else reader.template.features,
        drop_columns=[label_col] if label_col is not None and not labelled else [],
    )
    ds = frame_to_dataset(frame, spec, origin, "input", ids)
    out = pd.DataFrame({"id": frame[id_col].tolist() if id_col else ids})
    if text_col is not None:
        out["text"] = frame[text_col].tolist()
    # a feature model's other columns are its (possibly many) features: join them back on id
    others = [c for c in columns if c not in (id_col, text_col)]
    if not reader.reads_text:
        others = [c for c in others if c == label_col]
    # an unscored "label" column keeps its name: a scored one takes its place
    names = {c: c if c == label_col == "label" else _free(c) for c in others}
    for c in others:
        out[names[c]] = frame[c].tolist()
    return NewData(ds, out, names.get(label_col) if label_col else None, origin)


def _loaded(
    reader: Reader, ds: DomainDataset, origin: str, id: str | None, header: Header | None
) -> NewData:
    """Data that is not a table (folders, arrays, named sets): ids are its own sample names."""
    if id is not None or header is not None:
        raise ConfigError(
            f"--id and --header apply to tables (CSV, TSV, TXT, Parquet, JSONL), not {origin}",
            "leave them out",
        )
    out = pd.DataFrame({"id": ds.ids})
    if ds.kind == "text":
        out["text"] = list(ds.inputs)
    label_col = None
    if ds.labels is not None:
        label_col = "label"
        out[label_col] = list(ds.labels)
        if ds.missing_labels().any():  # the model never reads a partial label column
            ds.labels = None
    return NewData(ds, out, label_col, origin)


def _text_column(
    reader: Reader, text: str | None, columns: list[str], origin: str, taken: set[str | None]
) -> str | None:
    if not reader.reads_text:
        if text is not None:
            raise ConfigError(
                f"--text names a text column, but this run's model reads {reader.modality} data",
                "leave --text out",
            )
        return None
    if text is not None:
        return _given(text, columns, origin, "--text (API: text=)")
    name = reader.template.text or "text"
    if name in columns:
        return name
    rest = [c for c in columns if c not in taken]
    if len(rest) == 1:  # one text per line, or text beside an id or label column
        return rest[0]
    raise DataError(
        f"{origin} has no column {name!r}, the training text column "
        f"(columns: {', '.join(columns[:20])})",
        "name its text column with --text (API: text=)",
    )


def _given(name: str, columns: list[str], origin: str, option: str) -> str:
    found = _position(name, columns)
    if found not in columns:
        raise DataError(
            f"column {name!r} not found in {origin} (columns: {', '.join(columns[:20])})",
            f"pass {option} one of them, or a position from 0",
        )
    return found


def _position(name: str, columns: list[str]) -> str:
    """A column the user named (``--text``, ``--id``), by name, else by position (``0`` is the
    first), as ``text: 0`` in a data spec."""
    if name in columns or not name.isdigit() or int(name) >= len(columns):
        return name
    return columns[int(name)]


def _free(name: str) -> str:
    clash = name in RESERVED or name.startswith("p:")
    return f"input:{name}" if clash else name


def class_names(ds: DomainDataset, classes: list[str]) -> list[str] | None:
    """Names for classes that are a named set's codes (``meta["class_names"]``), so predictions
    say "positive" rather than "1"; None where the classes are already what the data says."""
    names = ds.meta.get("class_names")
    if not names or not all(c.isdigit() and int(c) < len(names) for c in classes):
        return None
    return [str(names[int(c)]) for c in classes]


def stdin_texts(stream: TextIO) -> tuple[list[str], list[str]]:
    """One text per non-blank line, named by its line number."""
    texts, ids = [], []
    for number, line in enumerate(stream, start=1):
        line = line.rstrip("\r\n")
        if line.strip():
            texts.append(line)
            ids.append(f"line {number}")
    return texts, ids
