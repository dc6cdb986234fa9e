"""Blitzer et al.'s pseudo-XML ``.review`` files (not valid XML: parse by whole lines)."""

from __future__ import annotations

import re
from pathlib import Path

# Lines stand alone in these files; anchoring on whole lines keeps a stray "<" or "&" in the
# text harmless (the files are not valid XML).
_REVIEW = re.compile(r"^<review>[ \t]*$(.*?)^</review>[ \t]*$", re.M | re.S)
_FIELD = re.compile(r"^<([a-z_]+)>[ \t]*\n(.*?)\n?^</\1>[ \t]*$", re.M | re.S)


def parse_reviews(text: str) -> list[dict[str, str]]:
    """Each ``<review>`` block of a Blitzer ``.review`` file as {tag: stripped content}."""
    return [
        {m.group(1): m.group(2).strip() for m in _FIELD.finditer(block)}
        for block in _REVIEW.findall(text)
    ]


def read_review_file(path: Path) -> list[dict[str, str]]:
    # The files are UTF-8 in which characters lost in an earlier conversion show up as U+FFFD or
    # as the control character SUB (0x1A); both become U+FFFD so no control character reaches a
    # tokenizer or a CSV/JSON writer, and any odd byte decodes the same way every time.
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\x1a", "\ufffd")
    return parse_reviews(text)


def rating(value: str | None) -> float:
    try:
        return float(value) if value else float("nan")
    except ValueError:
        return float("nan")
