"""Token operations on a padded batch (``input_ids``, ``attention_mask``). The first and last
real tokens of each row (a tokenizer's [CLS] and [SEP]) stay in place; the operations act on
the tokens between them, and no row grows past ``max_length``."""

from __future__ import annotations

import torch

Rows = list[list[int]]


def _rows(batch: dict[str, torch.Tensor]) -> Rows:
    ids, mask = batch["input_ids"].cpu(), batch["attention_mask"].cpu()
    return [ids[i, : int(mask[i].sum())].tolist() for i in range(ids.shape[0])]


def _pack(rows: Rows, pad_id: int, like: torch.Tensor) -> dict[str, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.as_tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return {"input_ids": ids.to(like.device), "attention_mask": mask.to(like.device)}


def _inner(row: list[int]) -> tuple[list[int], list[int], list[int]]:
    if len(row) <= 2:
        return row, [], []
    return row[:1], row[1:-1], row[-1:]


def _count(rate: float, n: int) -> int:
    return max(1, round(rate * n)) if n else 0


def delete(row: list[int], gen: torch.Generator, rate: float = 0.1) -> list[int]:
    head, body, tail = _inner(row)
    if len(body) < 2:
        return row
    keep = torch.rand(len(body), generator=gen) >= rate
    if not bool(keep.any()):
        keep[int(torch.randint(0, len(body), (1,), generator=gen))] = True
    return head + [t for t, k in zip(body, keep.tolist(), strict=True) if k] + tail


def swap(row: list[int], gen: torch.Generator, rate: float = 0.1) -> list[int]:
    head, body, tail = _inner(row)
    body = list(body)
    if len(body) < 2:
        return row
    for _ in range(_count(rate, len(body))):
        i, j = torch.randint(0, len(body), (2,), generator=gen).tolist()
        body[i], body[j] = body[j], body[i]
    return head + body + tail


def insert(row: list[int], gen: torch.Generator, rate: float = 0.1) -> list[int]:
    """Copies of the row's own tokens at random places (no new vocabulary)."""
    head, body, tail = _inner(row)
    body = list(body)
    if not body:
        return row
    for _ in range(_count(rate, len(body))):
        token = body[int(torch.randint(0, len(body), (1,), generator=gen))]
        body.insert(int(torch.randint(0, len(body) + 1, (1,), generator=gen)), token)
    return head + body + tail


def mask(row: list[int], gen: torch.Generator, rate: float = 0.15, mask_id: int = 0) -> list[int]:
    head, body, tail = _inner(row)
    hit = (torch.rand(len(body), generator=gen) < rate).tolist()
    return head + [mask_id if h else t for t, h in zip(body, hit, strict=True)] + tail


def apply_rows(
    batch: dict[str, torch.Tensor],
    gen: torch.Generator,
    chosen: torch.Tensor,
    op: object,
    params: dict[str, object],
    pad_id: int,
    max_length: int,
) -> dict[str, torch.Tensor]:
    """``op`` on the rows where ``chosen`` is true; rows longer than ``max_length`` lose
    tokens from the end of their body."""
    rows = _rows(batch)
    for i in torch.nonzero(chosen).flatten().tolist():
        new = op(rows[i], gen, **params)  # type: ignore[operator]
        if len(new) > max_length:
            new = new[: max_length - 1] + new[-1:]
        rows[i] = new
    return {**batch, **_pack(rows, pad_id, batch["input_ids"])}
