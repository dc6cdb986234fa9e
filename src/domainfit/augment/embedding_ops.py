"""Text augmentations in a Hugging Face model's embedding space, through a forward hook on its
input (word) embeddings.

- ``embed_mixup`` (mixup for text, as in Guo et al. 2019): the next training forward mixes each
  sample's token embeddings with a partner's (weights and partners chosen by the augmenter,
  which mixes the labels alike). Padding positions are mixed too; each row keeps its own
  attention mask.
- ``embed_fgsm``: adversarial training on the token embeddings (Miyato et al. 2017): the
  loss is averaged with the loss at embeddings moved along the gradient's sign by ``eps`` times
  the batch's embedding RMS. Embedding scales differ by model (MiniLM's elements have an RMS of
  0.056), so an absolute step would be harmless for one model and wreck another: at an absolute
  0.01, a fifth of MiniLM's typical element, fine-tuning on 200 reviews stayed at chance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn


class EmbeddingHook:
    """One hook for both operations; acts only on training forwards."""

    def __init__(self) -> None:
        self.mix: tuple[torch.Tensor, float] | None = None  # (partner index, weight)
        self.delta: torch.Tensor | None = None
        self.capturing = False  # keep the next output (for its gradient), only when asked
        self.captured: torch.Tensor | None = None

    def __call__(self, module: nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        if not module.training:
            return output
        if self.mix is not None:
            perm, lam = self.mix
            self.mix = None
            output = lam * output + (1 - lam) * output[perm.to(output.device)]
        if self.delta is not None:
            delta, self.delta = self.delta, None
            return output + delta
        if self.capturing:
            self.capturing, self.captured = False, output
        return output


def attach(inner: nn.Module) -> EmbeddingHook:
    get = getattr(inner, "get_input_embeddings", None)
    embeddings = get() if callable(get) else None
    if embeddings is None:
        raise ValueError("the backbone exposes no input embeddings (get_input_embeddings)")
    hook = EmbeddingHook()
    embeddings.register_forward_hook(hook)
    return hook


def embedding_adversarial_loss(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    batch: dict[str, torch.Tensor],
    hook: EmbeddingHook,
    eps: float,
) -> torch.Tensor:
    """Loss at the embeddings moved by ``eps`` x their RMS x sign of the loss gradient there."""
    hook.capturing = True
    loss = loss_fn(model(batch), batch["labels"])
    emb, hook.captured = hook.captured, None
    assert emb is not None
    (grad,) = torch.autograd.grad(loss, emb)
    rms = emb.detach().float().pow(2).mean().sqrt().to(emb.dtype)
    hook.delta = eps * rms * grad.sign().detach()
    return loss_fn(model(batch), batch["labels"])
