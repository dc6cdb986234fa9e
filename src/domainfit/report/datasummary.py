"""data.json as nested blocks of tables. The reader follows the file's shape rather than a fixed
list of keys, so a field added to data.json shows up without touching the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from domainfit.report import fmt

Kind = Literal["kv", "bars", "records", "group"]
MAX_DEPTH = 5
MAX_BARS = 50


@dataclass
class Block:
    title: str
    kind: Kind
    rows: list[Any] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    children: list[Block] = field(default_factory=list)


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _simple(v: Any) -> bool:
    """Fits in one table cell: a scalar or a list of scalars."""
    return _scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v))


def _text(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v).lower()
    if isinstance(v, int | float):
        return fmt.num(v)
    if isinstance(v, list) and all(_scalar(x) for x in v):
        return ", ".join(_text(x) for x in v)
    return v if isinstance(v, str) else json.dumps(v, default=str)


def _about_classes(key: str) -> bool:
    return any(w in key.lower() for w in ("class", "label", "balance"))


def _numeric(d: dict[str, Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in d.values())


def _bars(title: str, d: dict[str, Any]) -> Block:
    """Class counts as rows with a bar scaled to the largest class, and each class's share."""
    items = sorted(d.items(), key=lambda kv: -kv[1])[:MAX_BARS]
    total = sum(d.values()) or 1
    top = max((v for _, v in items), default=0) or 1
    rows = [(str(k), fmt.count(v), 100 * v / top, f"{100 * v / total:.1f}%") for k, v in items]
    return Block(title, "bars", rows)


def _records(title: str, rows: list[dict[str, Any]]) -> Block:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return Block(title, "records", [[_text(r.get(c, "")) for c in columns] for r in rows], columns)


def _nested(key: str, d: dict[str, Any], depth: int, classes: bool = False) -> Block:
    """``classes``: inside a block about classes, e.g. ``class_counts: {train: {...}}``."""
    classes = classes or _about_classes(key)
    if classes and _numeric(d):
        return _bars(key, d)
    if all(_simple(v) for v in d.values()):  # a small table of its own, beside its siblings
        return Block(key, "kv", [(str(k), _text(v)) for k, v in d.items()])
    return describe(key, d, depth, classes)


def describe(title: str, d: dict[str, Any], depth: int = 0, classes: bool = False) -> Block:
    """A dict as a group: its scalars in one key/value table, then a block per nested value."""
    group = Block(title, "group")
    flat = depth >= MAX_DEPTH
    cells = [(str(k), _text(v)) for k, v in d.items() if flat or _simple(v) or v == {}]
    if cells:
        group.children.append(Block("", "kv", cells))
    if flat:
        return group
    for key, value in d.items():
        key = str(key)
        if isinstance(value, dict) and value:
            group.children.append(_nested(key, value, depth + 1, classes))
        elif isinstance(value, list) and not _simple(value):
            if all(isinstance(r, dict) for r in value):
                group.children.append(_records(key, value))
            else:
                group.children.append(Block("", "kv", [(key, _text(value))]))
    return group
