"""``embed_fgsm``'s step is relative to the embeddings' scale, so one eps suits every model."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from domainfit.augment.embedding_ops import EmbeddingHook, embedding_adversarial_loss


class _Spy(EmbeddingHook):
    """Records every perturbation handed to the hook."""

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "delta" and value is not None:
            self.__dict__.setdefault("seen", []).append(value)
        super().__setattr__(key, value)


class _Tiny(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.emb = nn.Embedding(10, 4)
        with torch.no_grad():
            self.emb.weight.mul_(scale)
        self.head = nn.Linear(4, 2)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.emb(batch["input_ids"]).mean(1))


@pytest.mark.parametrize("scale", [0.05, 1.0, 20.0])
def test_step_is_eps_times_the_embeddings_rms(scale: float) -> None:
    model = _Tiny(scale).train()
    spy = _Spy()
    model.emb.register_forward_hook(spy)
    batch = {"input_ids": torch.tensor([[1, 2, 3], [4, 5, 6]]), "labels": torch.tensor([0, 1])}
    loss = embedding_adversarial_loss(model, nn.functional.cross_entropy, batch, spy, eps=0.1)
    assert torch.isfinite(loss)
    (delta,) = spy.seen
    rms = model.emb(batch["input_ids"]).pow(2).mean().sqrt()
    nonzero = delta[delta != 0].abs()
    assert nonzero.numel() > 0
    assert torch.allclose(nonzero, 0.1 * rms.detach(), rtol=1e-5)
