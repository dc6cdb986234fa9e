"""Augmentation operations: shapes kept, inputs changed, labels mixed right, reproducible."""

from __future__ import annotations

import pytest
import torch

from domainfit.augment import mixing, text_ops
from domainfit.augment.pipeline import IMAGE_OPS, build_augmenter
from domainfit.errors import ConfigError


def _images(n: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand((n, 3, 16, 16), generator=g)


@pytest.mark.parametrize("name", sorted(IMAGE_OPS))
def test_image_op_keeps_shape_and_range_and_repeats(name: str) -> None:
    x = _images()
    params = {"degrees": 10.0} if name == "affine" else {}  # its defaults are the identity
    a = IMAGE_OPS[name](x.clone(), torch.Generator().manual_seed(1), **params)
    b = IMAGE_OPS[name](x.clone(), torch.Generator().manual_seed(1), **params)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert float(a.min()) >= -1e-6 and float(a.max()) <= 1 + 1e-6
    assert torch.equal(a, b)  # the generator alone decides
    assert not torch.allclose(a, x)  # it did something


def _text_batch() -> dict[str, torch.Tensor]:
    rows = [[101, 5, 6, 7, 8, 9, 102], [101, 11, 12, 102]]
    return text_ops._pack(rows, 0, torch.zeros(1))


@pytest.mark.parametrize("op", [text_ops.delete, text_ops.swap, text_ops.insert, text_ops.mask])
def test_token_ops_keep_the_special_tokens(op: object) -> None:
    gen = torch.Generator().manual_seed(0)
    batch = _text_batch()
    params = {"rate": 0.5} if op is not text_ops.mask else {"rate": 0.9, "mask_id": 103}
    out = text_ops.apply_rows(batch, gen, torch.tensor([True, True]), op, params, 0, 8)
    for i, row in enumerate(text_ops._rows(out)):
        assert row[0] == 101 and row[-1] == 102 and len(row) <= 8
        original = text_ops._rows(batch)[i]
        if op is text_ops.delete:
            assert len(row) <= len(original)
        if op is text_ops.insert:
            assert len(row) > len(original) and set(row) <= set(original)
        if op is text_ops.swap:
            assert sorted(row) == sorted(original)
        if op is text_ops.mask:
            assert 103 in row
    assert out["attention_mask"].sum(1).tolist() == [len(r) for r in text_ops._rows(out)]


def test_mixup_and_cutmix_weight_the_labels() -> None:
    x = _images(8)
    y = mixing.soft_labels(torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]), "multiclass", 3)
    _, ym = mixing.mixup(x, y, torch.Generator().manual_seed(0), alpha=0.4)
    assert torch.allclose(ym.sum(1), torch.ones(8))
    xc, yc = mixing.cutmix(x, y, torch.Generator().manual_seed(0), alpha=1.0)
    changed = (xc != x).any(dim=1)  # (N, H, W): pixels from the partner
    share = changed.float().mean().item()
    # the label weight of the partner equals the pasted area (where partners differ)
    assert torch.allclose(yc.sum(1), torch.ones(8))
    assert abs((1 - yc.max(1).values).mean().item() - share) < 0.2


def test_augmenter_is_reproducible_and_p0_is_identity() -> None:
    ops = [{"op": "rotate", "degrees": 20, "p": 0.5}, {"op": "mixup", "alpha": 0.2}]
    aug = build_augmenter(ops, "image", seed=3, task="multiclass", n_classes=3)
    assert aug is not None
    batch = {"x": _images(), "labels": torch.tensor([0, 1, 2, 0, 1, 2])}
    a, b = aug(batch, epoch=1, index=4), aug(batch, epoch=1, index=4)
    assert torch.equal(a["x"], b["x"]) and torch.equal(a["labels"], b["labels"])
    c = aug(batch, epoch=1, index=5)
    assert not torch.equal(a["x"], c["x"])
    none = build_augmenter(
        [{"op": "rotate", "p": 0.0}], "image", seed=0, task="binary", n_classes=2
    )
    assert none is not None and torch.equal(none(batch, 0, 0)["x"], batch["x"])


def test_bad_ops_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown"):
        build_augmenter([{"op": "warp"}], "image", seed=0, task="binary", n_classes=2)
    with pytest.raises(ConfigError, match="works on image inputs"):
        build_augmenter([{"op": "rotate"}], "text", seed=0, task="binary", n_classes=2)
    with pytest.raises(ConfigError, match="no parameter angle"):
        build_augmenter([{"op": "rotate", "angle": 3}], "image", seed=0, task="binary", n_classes=2)


def test_domain_ops_move_source_images_towards_the_target() -> None:
    from domainfit.augment import domain_ops

    gen = torch.Generator().manual_seed(0)
    dark = 0.2 * _images(4)
    bright = 0.5 + 0.2 * _images(1, seed=5)  # one target image: every partner is it
    stats = domain_ops.match_stats(dark, gen, bright)
    assert torch.allclose(stats.mean((-2, -1)), bright.mean((-2, -1)).expand(4, 3), atol=1e-4)
    hist = domain_ops.match_histogram(dark, gen, bright)
    assert torch.equal(
        hist.reshape(4, 3, -1).sort(-1).values,
        bright.reshape(1, 3, -1).sort(-1).values.expand(4, 3, -1),
    )
    # the histogram keeps each source image's pixel order (its content)
    assert torch.equal(hist.reshape(4, 3, -1).argsort(-1), dark.reshape(4, 3, -1).argsort(-1))
    fda = domain_ops.fda(dark, gen, bright, beta=0.1)
    assert (fda.mean() - bright.mean()).abs() < (dark.mean() - bright.mean()).abs() / 2
    phase_kept = torch.corrcoef(torch.stack([fda[0].flatten(), dark[0].flatten()]))[0, 1]
    assert phase_kept > 0.5  # the content (phase) is the source's


def test_domain_ops_need_a_target(tmp_path: object) -> None:
    aug = build_augmenter([{"op": "fda", "beta": 0.1}], "image", seed=0, task="binary", n_classes=2)
    assert aug is not None and aug.needs_target
    with pytest.raises(ConfigError, match="no parameter target"):
        build_augmenter([{"op": "fda", "target": 1}], "image", seed=0, task="binary", n_classes=2)


def test_mixstyle_acts_in_training_only() -> None:
    from torch import nn

    from domainfit.augment.feature_ops import add_mixstyle

    torch.manual_seed(0)
    net = nn.Sequential()
    net.add_module("stage1", nn.Conv2d(3, 4, 3, padding=1))
    net.add_module("stage2", nn.Conv2d(4, 4, 3, padding=1))
    x = _images(6)
    net.eval()
    plain = net(x)
    add_mixstyle(net, ["stage1"], p=1.0, alpha=0.1)
    assert torch.equal(net(x), plain)  # evaluation: untouched
    net.train()
    assert not torch.allclose(net(x), plain)
    with pytest.raises(ValueError, match="no module 'stage9'"):
        add_mixstyle(net, ["stage9"], p=1.0, alpha=0.1)


def test_adversarial_loss_is_higher_and_bounded() -> None:
    from torch import nn

    from domainfit.augment.feature_ops import adversarial_loss

    torch.manual_seed(0)
    lin = nn.Linear(4, 3)

    class Model(nn.Module):
        def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            return lin(batch["x"])

    batch = {"x": torch.randn(16, 4), "labels": torch.randint(0, 3, (16,))}
    loss_fn = nn.CrossEntropyLoss()
    clean = loss_fn(lin(batch["x"]), batch["labels"])
    fgsm = adversarial_loss(Model(), loss_fn, batch, 0.1, 1, 0.1)
    pgd = adversarial_loss(Model(), loss_fn, batch, 0.1, 5, 0.05)
    assert fgsm > clean and pgd >= fgsm - 1e-4
    # within eps, the worst case of a linear model is reached by one signed step: no overshoot
    worst = adversarial_loss(Model(), loss_fn, batch, 0.1, 20, 0.5).detach()
    assert abs(float(worst) - float(fgsm.detach())) < 0.05


def test_embedding_hook_mixes_once_and_only_in_training() -> None:
    from torch import nn

    from domainfit.augment.embedding_ops import EmbeddingHook

    emb = nn.Embedding(10, 4)
    hook = EmbeddingHook()
    emb.register_forward_hook(hook)
    ids = torch.tensor([[1, 2], [3, 4]])
    plain = emb(ids)
    hook.mix = (torch.tensor([1, 0]), 0.25)
    mixed = emb(ids)
    assert torch.allclose(mixed[0], 0.25 * plain[0] + 0.75 * plain[1])
    assert torch.equal(emb(ids), plain)  # consumed by one forward
    emb.eval()
    hook.mix = (torch.tensor([1, 0]), 0.25)
    assert torch.equal(emb(ids), plain)  # evaluation forwards are never touched
