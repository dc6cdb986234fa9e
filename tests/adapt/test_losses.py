"""Each deep domain-adaptation loss against known values and its defining behaviour; a tiny
feature extractor trained with DANN / MMD on two shifted Gaussian blobs becomes domain-invariant
while keeping the task."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from torch import nn

from domainfit.adapt import DOMAIN_LOSSES, dann_coefficient
from domainfit.adapt.cdan import CDANLoss
from domainfit.adapt.coral import CORALLoss
from domainfit.adapt.dann import DANNLoss, reverse_gradient
from domainfit.adapt.entropy import EntropyLoss
from domainfit.adapt.mmd import MMDLoss


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --- CORAL -------------------------------------------------------------------------------------


def test_coral_hand_computed() -> None:
    # source spread along x, target along y: C_s = diag(2, 0), C_t = diag(0, 2) (unbiased,
    # n - 1 = 1), ||C_s - C_t||_F^2 = 8, / (4 d^2) = 8 / 16
    f_s = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    f_t = torch.tensor([[0.0, 1.0], [0.0, -1.0]])
    assert CORALLoss(2, 3)(f_s, f_t).item() == pytest.approx(0.5)


def test_coral_matches_numpy_covariances() -> None:
    f_s, f_t = _randn(7, 4, seed=1), 2 * _randn(5, 4, seed=2) + 1
    c_s, c_t = np.cov(f_s.numpy(), rowvar=False), np.cov(f_t.numpy(), rowvar=False)
    expected = ((c_s - c_t) ** 2).sum() / (4 * 4**2)
    assert CORALLoss(4, 2)(f_s, f_t).item() == pytest.approx(expected, rel=1e-5)


def test_coral_zero_for_same_covariance_and_ignores_mean_shift() -> None:
    f = _randn(16, 5)
    loss = CORALLoss(5, 2)
    assert loss(f, f.clone()).item() == pytest.approx(0.0, abs=1e-10)
    assert loss(f, f + 3.0).item() == pytest.approx(0.0, abs=1e-9)
    assert loss(f, 2 * f).item() > 1e-3


def test_coral_needs_two_samples() -> None:
    with pytest.raises(ValueError, match="coral"):
        CORALLoss(3, 2)(_randn(1, 3), _randn(4, 3))


# --- MMD ---------------------------------------------------------------------------------------


def test_mmd_hand_computed() -> None:
    # one point per domain at distance 1: beta = 1, bandwidths 2^-2..2^2; each kernel is 1 on
    # the diagonal, so MMD^2 = 5 + 5 - 2 sum_u exp(-1 / 2^u)
    expected = 10 - 2 * sum(math.exp(-1 / 2.0**u) for u in range(-2, 3))
    got = MMDLoss(1, 2)(torch.tensor([[0.0]]), torch.tensor([[1.0]]))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_mmd_zero_for_identical_batches() -> None:
    f = _randn(12, 6)
    assert MMDLoss(6, 2)(f, f.clone()).item() == pytest.approx(0.0, abs=1e-5)


def test_mmd_grows_with_mean_shift_and_is_symmetric() -> None:
    loss = MMDLoss(3, 2)
    f_s, noise = _randn(20, 3, seed=1), _randn(15, 3, seed=2)
    values = [loss(f_s, noise + shift).item() for shift in (0.0, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in itertools.pairwise(values)), values
    f_t = noise + 1.0
    assert loss(f_s, f_t).item() == pytest.approx(loss(f_t, f_s).item(), rel=1e-5)


def test_mmd_kernels_option() -> None:
    f_s, f_t = _randn(6, 2, seed=1), _randn(6, 2, seed=2) + 1
    one = MMDLoss(2, 2, kernels=1)(f_s, f_t)
    five = MMDLoss(2, 2)(f_s, f_t)
    assert one.item() > 0 and five.item() > one.item()  # a sum of 5 kernels: larger MMD^2
    with pytest.raises(ValueError, match="mmd"):
        MMDLoss(2, 2, kernels=0)


# --- gradient reversal and DANN ----------------------------------------------------------------


def test_reverse_gradient_is_identity_forward_and_negated_backward() -> None:
    x = _randn(4, 3).requires_grad_()
    y = reverse_gradient(x, 0.3)
    assert torch.equal(y, x)
    (y * torch.arange(3.0)).sum().backward()
    assert x.grad is not None
    assert torch.allclose(x.grad, -0.3 * torch.arange(3.0).expand(4, 3))


def _plain_domain_bce(disc: nn.Module, f_s: torch.Tensor, f_t: torch.Tensor) -> torch.Tensor:
    bce = nn.functional.binary_cross_entropy_with_logits
    l_s, l_t = disc(f_s), disc(f_t)
    return 0.5 * (bce(l_s, torch.ones_like(l_s)) + bce(l_t, torch.zeros_like(l_t)))


@pytest.mark.parametrize("progress", [0.1, 0.5, 1.0])
def test_dann_features_get_reversed_scaled_gradient(progress: float) -> None:
    torch.manual_seed(0)
    loss = DANNLoss(4, 2, hidden=16).eval()  # no dropout: both passes see the same network
    f_s, f_t = _randn(6, 4, seed=1).requires_grad_(), _randn(5, 4, seed=2).requires_grad_()
    value = loss(f_s, f_t, progress=progress)
    g_s, g_t = torch.autograd.grad(value, [f_s, f_t])

    plain = _plain_domain_bce(loss.discriminator, f_s, f_t)
    p_s, p_t = torch.autograd.grad(plain, [f_s, f_t])
    assert value.item() == pytest.approx(plain.item(), rel=1e-6)  # forward is unchanged

    c = dann_coefficient(progress)
    assert torch.allclose(g_s, -c * p_s, atol=1e-7) and torch.allclose(g_t, -c * p_t, atol=1e-7)
    assert (g_s * p_s).sum() < 0  # the opposite direction


def test_dann_at_start_features_get_nothing_discriminator_learns() -> None:
    torch.manual_seed(0)
    loss = DANNLoss(4, 2, hidden=16)
    f_s, f_t = _randn(6, 4, seed=1).requires_grad_(), _randn(5, 4, seed=2).requires_grad_()
    loss(f_s, f_t, progress=0.0).backward()
    assert f_s.grad is not None and f_t.grad is not None
    assert torch.count_nonzero(f_s.grad) == 0 and torch.count_nonzero(f_t.grad) == 0
    for p in loss.discriminator.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_dann_constant_schedule_ignores_progress() -> None:
    torch.manual_seed(0)
    loss = DANNLoss(4, 2, hidden=16, schedule="constant").eval()
    f_s = _randn(6, 4, seed=1).requires_grad_()
    f_t = _randn(5, 4, seed=2)
    (early,) = torch.autograd.grad(loss(f_s, f_t, progress=0.0), [f_s])
    (plain,) = torch.autograd.grad(_plain_domain_bce(loss.discriminator, f_s, f_t), [f_s])
    assert torch.allclose(early, -plain, atol=1e-7)


def test_dann_options_are_checked() -> None:
    assert DANNLoss(8, 2).discriminator[0].out_features == 256
    assert DANNLoss(4096, 2).discriminator[0].out_features == 1024
    with pytest.raises(ValueError, match="dann.*schedule"):
        DANNLoss(4, 2, schedule="linear")
    with pytest.raises(TypeError, match="dann.*unknown option.*hiden"):
        DANNLoss(4, 2, hiden=8)
    with pytest.raises(ValueError, match="dann.*f_t"):
        DANNLoss(4, 2)(_randn(3, 4), _randn(3, 5))


# --- CDAN --------------------------------------------------------------------------------------


def test_cdan_multilinear_map_is_the_outer_product() -> None:
    loss = CDANLoss(3, 2, hidden=8)
    assert not loss.randomized and loss.discriminator[0].in_features == 6
    f, g = _randn(4, 3), torch.softmax(_randn(4, 2, seed=1), dim=1)
    expected = torch.stack([torch.outer(f[i], g[i]).flatten() for i in range(4)])
    assert torch.allclose(loss.multilinear_map(f, g), expected)


def test_cdan_randomized_map_above_threshold_and_seeded() -> None:
    assert not CDANLoss(1024, 4, hidden=8).randomized  # 4096: exactly at the threshold
    a = CDANLoss(2048, 3, hidden=8, seed=7)  # 6144 > 4096
    b = CDANLoss(2048, 3, hidden=8, seed=7)
    c = CDANLoss(2048, 3, hidden=8, seed=8)
    assert a.randomized and a.discriminator[0].in_features == 1024
    assert a.random_f is not None and a.random_g is not None and c.random_f is not None
    assert a.random_f.shape == (2048, 1024) and a.random_g.shape == (3, 1024)
    assert b.random_f is not None and b.random_g is not None
    assert torch.equal(a.random_f, b.random_f) and torch.equal(a.random_g, b.random_g)
    assert not torch.equal(a.random_f, c.random_f)
    with pytest.raises(ValueError, match="cdan.*entropy_weighting"):
        CDANLoss(4, 2, entropy_weighting="no")
    assert {"random_f", "random_g"} <= set(a.state_dict())  # buffers: saved, moved with .to()
    # the map's inner products estimate those of the outer product: <f,f'> <g,g'>
    f, g = _randn(2, 2048, seed=3), torch.softmax(_randn(2, 3, seed=4), dim=1)
    t = a.multilinear_map(f, g)
    assert t.shape == (2, 1024)
    exact = (f[0] @ f[1]) * (g[0] @ g[1])
    scale = f[0].norm() * f[1].norm() * g[0].norm() * g[1].norm()
    assert abs((t[0] @ t[1]) - exact) < 0.2 * scale


def test_cdan_binary_head_and_detached_predictions() -> None:
    torch.manual_seed(0)
    loss = CDANLoss(4, 1, hidden=8)  # one logit: 2 probabilities, map width 8
    assert loss.discriminator[0].in_features == 8
    f_s, f_t = _randn(5, 4).requires_grad_(), _randn(3, 4, seed=1).requires_grad_()
    l_s, l_t = _randn(5, seed=2).requires_grad_(), _randn(3, 1, seed=3).requires_grad_()
    loss(f_s, f_t, l_s, l_t).backward()
    assert f_s.grad is not None and f_s.grad.abs().sum() > 0
    assert l_s.grad is None and l_t.grad is None  # g is a condition, not trained adversarially


def test_cdan_entropy_weighting_upweights_confident_samples() -> None:
    torch.manual_seed(0)
    plain = CDANLoss(2, 2, hidden=8).eval()
    weighted = CDANLoss(2, 2, hidden=8, entropy_weighting=True).eval()
    weighted.load_state_dict(plain.state_dict())
    f_s, f_t = _randn(4, 2), _randn(4, 2, seed=1)
    # all predictions equally confident: the normalised weights are uniform, same loss
    same = torch.tensor([[2.0, -2.0]]).repeat(4, 1)
    assert weighted(f_s, f_t, same, same).item() == pytest.approx(
        plain(f_s, f_t, same, same).item()
    )
    # one confident source sample among uncertain ones: its BCE term gets more weight
    mixed = torch.zeros(4, 2)
    mixed[0] = torch.tensor([20.0, -20.0])
    bce = nn.functional.binary_cross_entropy_with_logits
    g = torch.softmax(mixed, 1)
    d_s = plain.discriminator(plain.multilinear_map(f_s, g))
    d_t = plain.discriminator(plain.multilinear_map(f_t, torch.softmax(same, 1)))
    per = bce(d_s, torch.ones_like(d_s), reduction="none")
    entropy = -(g * g.clamp_min(1e-30).log()).sum(1)
    w = 1 + torch.exp(-entropy)
    expected = 0.5 * ((w * per).sum() / w.sum() + bce(d_t, torch.zeros_like(d_t)))
    assert weighted(f_s, f_t, mixed, same).item() == pytest.approx(expected.item(), rel=1e-5)


# --- entropy -----------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 10])
def test_entropy_uniform_is_log_k(k: int) -> None:
    loss = EntropyLoss(4, k)
    f = torch.zeros(5, 4)
    assert loss(f, f, None, torch.zeros(5, k)).item() == pytest.approx(math.log(k), rel=1e-6)


def test_entropy_confident_is_zero_and_finite() -> None:
    logits = torch.tensor([[200.0, 0.0, 0.0], [0.0, -50.0, 60.0]], requires_grad=True)
    value = EntropyLoss(4, 3)(torch.zeros(2, 4), torch.zeros(2, 4), None, logits)
    assert value.item() == pytest.approx(0.0, abs=1e-12)
    value.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


@pytest.mark.parametrize("shape", [(6,), (6, 1)])
def test_entropy_binary_logits(shape: tuple[int, ...]) -> None:
    loss = EntropyLoss(4, 1)
    f = torch.zeros(6, 4)
    assert loss(f, f, None, torch.zeros(shape)).item() == pytest.approx(math.log(2), rel=1e-6)
    assert loss(f, f, None, torch.full(shape, 80.0)).item() == pytest.approx(0.0, abs=1e-12)
    p = torch.sigmoid(torch.tensor(1.5))
    expected = -(p * p.log() + (1 - p) * (1 - p).log()).item()
    assert loss(f, f, None, torch.full(shape, 1.5)).item() == pytest.approx(expected, rel=1e-6)


def test_entropy_decreases_under_its_gradient() -> None:
    logits = _randn(8, 3).requires_grad_()
    loss = EntropyLoss(2, 3)
    f = torch.zeros(8, 2)
    before = loss(f, f, None, logits)
    before.backward()
    assert logits.grad is not None
    after = loss(f, f, None, logits.detach() - 0.5 * logits.grad)
    assert after.item() < before.item()


# --- training on two shifted blobs -------------------------------------------------------------


def _blobs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source x ~ N(0, I_4), target x ~ N(3 e_0, I_4); the label is sign(x_1) in both."""
    g = torch.Generator().manual_seed(seed)
    x_s = torch.randn(n, 4, generator=g)
    x_t = torch.randn(n, 4, generator=g)
    x_t[:, 0] += 3.0
    return x_s, (x_s[:, 1] > 0).float(), x_t, (x_t[:, 1] > 0).float()


def _domain_accuracy(f_s: torch.Tensor, f_t: torch.Tensor) -> float:
    """Cross-validated accuracy of a fresh logistic regression telling the domains apart from
    standardised features (0.5: indistinguishable)."""
    x = torch.cat([f_s, f_t]).detach().numpy().astype(np.float64)
    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    y = np.r_[np.ones(len(f_s)), np.zeros(len(f_t))]
    return float(cross_val_score(LogisticRegression(), x, y, cv=3).mean())


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny ops on a loaded machine: several threads spin on each other for seconds a step."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("method", "options"), [("dann", {"hidden": 32, "dropout": 0.0}), ("mmd", {})]
)
@pytest.mark.usefixtures("one_thread")
def test_training_aligns_shifted_blobs(method: str, options: dict[str, Any]) -> None:
    torch.manual_seed(0)
    x_s, y_s, x_t, y_t = _blobs(256, seed=0)
    extractor = nn.Linear(4, 3)
    head = nn.Linear(3, 1)
    domain = DOMAIN_LOSSES.get(method)(3, 1, **options)
    before = _domain_accuracy(extractor(x_s), extractor(x_t))

    params = [*extractor.parameters(), *head.parameters(), *domain.parameters()]
    opt = torch.optim.Adam(params, lr=1e-2)
    bce = nn.functional.binary_cross_entropy_with_logits
    steps, g = 200, torch.Generator().manual_seed(1)
    for step in range(steps):
        i = torch.randint(0, 256, (64,), generator=g)
        j = torch.randint(0, 256, (64,), generator=g)
        f_s, f_t = extractor(x_s[i]), extractor(x_t[j])
        task = bce(head(f_s).squeeze(1), y_s[i])
        loss = task + domain(f_s, f_t, progress=step / steps)
        opt.zero_grad()
        loss.backward()
        opt.step()

    with torch.no_grad():
        f_s, f_t = extractor(x_s), extractor(x_t)
        target_accuracy = ((head(f_t).squeeze(1) > 0).float() == y_t).float().mean().item()
    after = _domain_accuracy(f_s, f_t)
    assert before > 0.8  # the shift is plain to see in the initial features
    assert after < 0.65 and after < before - 0.2, (before, after)
    assert target_accuracy > 0.9  # aligned without giving up the task
