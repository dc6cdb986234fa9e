"""Length-bucketed training batches and length-sorted evaluation (data/loaders.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from domainfit.data.loaders import Batches, EncodedSet, bucketed_order
from domainfit.evaluate.outputs import model_outputs


def skewed_set(n: int = 403, seed: int = 0) -> EncodedSet:
    """Mostly short rows, a long tail (like reviews); each row's ids encode its sample index."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(2 + rng.geometric(0.05, n), 256)
    rows = [[i + 1] * int(k) for i, k in enumerate(lengths)]
    return EncodedSet({"input_ids": rows}, np.arange(n) % 2)


def epoch_rows(data: EncodedSet, bs: int, epoch: int, **kw: object) -> list[np.ndarray]:
    b = Batches(data, bs, shuffle=True, seed=3, epoch=epoch, bucket=True, **kw)  # type: ignore[arg-type]
    return [b.global_rows(i) for i in range(len(b))]


def test_every_sample_exactly_once_and_batch_count_unchanged() -> None:
    data = skewed_set()
    for bs in (1, 7, 16, 403, 500):
        rows = epoch_rows(data, bs, 0)
        assert sorted(np.concatenate(rows).tolist()) == list(range(len(data)))
        assert len(rows) == len(Batches(data, bs, shuffle=False))
        assert all(len(r) == bs for r in rows[:-1])  # only the last batch may be smaller


def test_deterministic_per_seed_and_epoch_and_differs_across_epochs() -> None:
    data = skewed_set()
    a, b = epoch_rows(data, 16, 1), epoch_rows(data, 16, 1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    other = epoch_rows(data, 16, 2)
    assert not all(np.array_equal(x, y) for x, y in zip(a, other, strict=True))


def test_buckets_cut_padding_against_random_batches() -> None:
    data = skewed_set()
    plain = Batches(data, 16, shuffle=True, seed=3, epoch=0).padded_tokens()
    bucketed = Batches(data, 16, shuffle=True, seed=3, epoch=0, bucket=True).padded_tokens()
    real = int(data.lengths().sum())  # type: ignore[union-attr]
    assert real <= bucketed < 0.7 * plain


def test_batches_are_still_in_random_length_order() -> None:
    data = skewed_set()
    lengths = data.lengths()
    assert lengths is not None
    widths = [int(lengths[r].max()) for r in epoch_rows(data, 8, 0)]
    full = widths[:-1]
    assert full != sorted(full) and full != sorted(full, reverse=True)


def test_resume_mid_epoch_yields_the_same_remaining_batches() -> None:
    data = skewed_set()
    whole = list(Batches(data, 16, shuffle=True, seed=3, epoch=4, bucket=True))
    rest = list(Batches(data, 16, shuffle=True, seed=3, epoch=4, bucket=True, start_batch=11))
    assert len(rest) == len(whole) - 11
    for x, y in zip(whole[11:], rest, strict=True):
        assert x.keys() == y.keys()
        assert all(torch.equal(x[k], y[k]) for k in x)


def test_stripes_of_a_bucketed_batch_make_up_the_global_batch() -> None:
    data = skewed_set()
    world = 3
    per_rank = [
        list(Batches(data, 16, shuffle=True, seed=3, epoch=1, bucket=True, rank=r, world=world))
        for r in range(world)
    ]
    full = Batches(data, 16, shuffle=True, seed=3, epoch=1, bucket=True)
    for b in range(len(full)):
        got = sorted(int(row[0]) - 1 for r in range(world) for row in per_rank[r][b]["input_ids"])
        assert got == sorted(full.global_rows(b).tolist())


def test_non_text_sets_ignore_the_flag() -> None:
    data = EncodedSet({"x": np.zeros((50, 3), dtype=np.float32)}, np.zeros(50, dtype=np.int64))
    plain = Batches(data, 8, shuffle=True, seed=1, epoch=2)
    flagged = Batches(data, 8, shuffle=True, seed=1, epoch=2, bucket=True)
    assert np.array_equal(plain.order, flagged.order)
    assert flagged.padded_tokens() == 0


def test_without_the_flag_the_order_is_the_plain_shuffle() -> None:
    data = skewed_set()
    expected = np.random.default_rng([3, 5]).permutation(len(data))
    assert np.array_equal(Batches(data, 16, shuffle=True, seed=3, epoch=5).order, expected)


def test_empty_and_tiny_sets() -> None:
    assert bucketed_order(np.zeros(0, dtype=np.int64), 4, 0, 0).tolist() == []
    assert sorted(bucketed_order(np.array([5, 1, 3]), 4, 0, 0).tolist()) == [0, 1, 2]


class _LengthModel(nn.Module):
    """Logits from a row's first id and its token count: outputs identify the sample."""

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        first = batch["input_ids"][:, 0].float()
        count = batch["attention_mask"].sum(1).float()
        return torch.stack([first, count], dim=1)


def test_evaluation_outputs_come_back_in_the_data_order() -> None:
    data = skewed_set(n=77)
    raw = []
    for i, row in enumerate(data.inputs["input_ids"]):
        raw.append([float(i + 1), float(len(row))])
    probs = model_outputs(_LengthModel(), data, "multiclass", batch_size=8)
    assert np.allclose(probs, torch.softmax(torch.tensor(raw), dim=-1).numpy())


def test_length_sorted_evaluation_pads_less() -> None:
    data = skewed_set()
    sorted_eval = Batches(data, 32, shuffle=False, bucket=True)
    assert sorted_eval.padded_tokens() < Batches(data, 32, shuffle=False).padded_tokens()
    assert sorted(sorted_eval.order.tolist()) == list(range(len(data)))


@pytest.mark.parametrize("epoch", [0, 1])
def test_bucketed_batches_hold_similar_lengths(epoch: int) -> None:
    data = skewed_set()
    lengths = data.lengths()
    assert lengths is not None
    plain = Batches(data, 16, shuffle=True, seed=3, epoch=epoch)
    random_spread = [np.ptp(lengths[plain.global_rows(b)]) for b in range(len(plain))]
    spread = [np.ptp(lengths[r]) for r in epoch_rows(data, 16, epoch)]
    assert np.median(spread) < 0.25 * np.median(random_spread)
