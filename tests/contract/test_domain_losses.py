"""Every registered domain loss (also those added later) through the ``DomainLoss`` contract:

- a finite scalar for multiclass and binary ((n,) and (n, 1)) logits, with n_s != n_t;
- gradients reach both f_s and f_t, or neither and then the target logits (entropy-like methods);
- no hidden state: two calls on the same inputs (eval mode, or the same seed in train mode) agree
  and change no parameter or buffer;
- a method with ``needs_logits`` that gets none raises a ValueError naming it; an unknown option
  a TypeError naming it (as Python does for an unexpected keyword argument).
"""

from __future__ import annotations

import pytest
import torch

from domainfit.adapt import DOMAIN_LOSSES, DomainLoss

NAMES = DOMAIN_LOSSES.names()  # read at collection: methods registered later are covered
D = 6
N_S, N_T = 7, 5


def _batch(classes: int, logits_shape: str = "multi") -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    k = (classes,) if logits_shape == "multi" else () if logits_shape == "flat" else (1,)
    return {
        "f_s": torch.randn(N_S, D, generator=g).requires_grad_(),
        "f_t": (torch.randn(N_T, D, generator=g) + 1.0).requires_grad_(),
        "logits_s": torch.randn(N_S, *k, generator=g).requires_grad_(),
        "logits_t": torch.randn(N_T, *k, generator=g).requires_grad_(),
    }


def _build(name: str, classes: int) -> DomainLoss:
    torch.manual_seed(0)
    return DOMAIN_LOSSES.get(name)(D, classes)


def test_registry_has_the_deep_methods() -> None:
    assert {"dann", "cdan", "coral", "mmd", "entropy"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_declares_its_name(name: str) -> None:
    cls = DOMAIN_LOSSES.get(name)
    assert issubclass(cls, DomainLoss) and cls.name == name


@pytest.mark.parametrize(
    ("classes", "logits_shape"), [(3, "multi"), (1, "flat"), (1, "column")], ids=str
)
@pytest.mark.parametrize("name", NAMES)
def test_finite_scalar_and_gradients(name: str, classes: int, logits_shape: str) -> None:
    loss = _build(name, classes)
    batch = _batch(classes, logits_shape)
    for progress in (0.3, 1.0):
        value = loss(**batch, progress=progress)
        assert isinstance(value, torch.Tensor) and value.dim() == 0, value
        assert torch.isfinite(value), value
    value.backward()

    def reached(key: str) -> bool:
        grad = batch[key].grad
        return grad is not None and bool(torch.isfinite(grad).all()) and bool(grad.abs().sum())

    if reached("f_s") or reached("f_t"):
        assert reached("f_s") and reached("f_t"), f"{name}: gradient reaches only one domain"
    else:
        assert loss.needs_logits and reached("logits_t"), f"{name}: no gradient to any input"


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train-seeded"])
@pytest.mark.parametrize("name", NAMES)
def test_no_hidden_state(name: str, train: bool) -> None:
    loss = _build(name, 3).train(train)
    batch = _batch(3)
    state = {k: v.clone() for k, v in loss.state_dict().items()}
    values = []
    for _ in range(2):
        torch.manual_seed(1)
        values.append(loss(**batch, progress=0.5).item())
    assert values[0] == values[1]
    after = loss.state_dict()
    assert state.keys() == after.keys()
    assert all(torch.equal(state[k], after[k]) for k in state), f"{name} changed its state"


@pytest.mark.parametrize("name", NAMES)
def test_missing_logits_is_a_clear_error(name: str) -> None:
    loss = _build(name, 3)
    batch = _batch(3)
    if not loss.needs_logits:
        assert torch.isfinite(loss(batch["f_s"], batch["f_t"]))  # no logits needed
        return
    with pytest.raises(ValueError, match=name):
        loss(batch["f_s"], batch["f_t"])
    with pytest.raises(ValueError, match=name):
        loss(batch["f_s"], batch["f_t"], batch["logits_s"], None)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_option_is_a_clear_error(name: str) -> None:
    with pytest.raises(TypeError, match=f"{name}.*no_such_option"):
        DOMAIN_LOSSES.get(name)(D, 3, no_such_option=1)
