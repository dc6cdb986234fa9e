"""The losses of one training micro-batch beyond the plain task loss: the adaptation loss of a
source batch paired with a target batch, and the adversarial-example losses (input FGSM/PGD,
embedding FGSM) that the augmentation config asks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from domainfit.adapt.adapter import Adapter

Batch = dict[str, torch.Tensor]


def align(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary heads emit one logit: targets become float and match its shape."""
    if logits.shape[-1] == 1 and labels.dim() == 1:
        return logits.squeeze(-1), labels.float()
    return logits, labels


def aligned(loss_fn: nn.Module) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``loss_fn`` taking raw logits and labels (for code that does not know the head)."""

    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return loss_fn(*align(out, y))

    return loss


def adapted_losses(
    model: nn.Module,
    loss_fn: nn.Module,
    adapter: Adapter,
    batch: Batch,
    target: Batch,
    progress: float,
) -> tuple[torch.Tensor, torch.Tensor, tuple[Any, Any]]:
    """The source task loss, and the adaptation loss of ``batch`` paired with the ``target``
    batch (already on the device; ``pseudo`` holds its pseudo-labels, -1 where none): the
    weighted domain loss plus the pseudo-label loss. Also those two losses' values (floats or
    detached tensors), for the epoch's means. ``progress`` runs from 0 to 1 over training."""
    f_s = model.features(batch)
    logits_s = model.head(f_s)
    loss = loss_fn(*align(logits_s, batch["labels"]))
    adapt_loss = torch.zeros((), device=logits_s.device)
    if len(next(iter(target.values()))) == 0:  # a tiny target pool: no target rows here
        return loss, adapt_loss, (0.0, 0.0)
    target = dict(target)
    pseudo = target.pop("pseudo", None)
    f_t = model.features(target)
    logits_t = model.head(f_t)
    domain_value: Any = 0.0
    pseudo_value: Any = 0.0
    if adapter.loss is not None:
        domain = adapter.loss(f_s, f_t, logits_s, logits_t, progress=progress)
        adapt_loss = adapt_loss + adapter.weight(progress) * domain
        domain_value = domain.detach().float()
    if pseudo is not None and bool((known := pseudo >= 0).any()):
        pl = loss_fn(*align(logits_t[known], pseudo[known]))
        adapt_loss = adapt_loss + adapter.cfg.self_training.weight * pl
        pseudo_value = pl.detach().float()
    return loss, adapt_loss, (domain_value, pseudo_value)


def input_adversarial_loss(
    model: nn.Module,
    loss_fn: nn.Module,
    adv: dict[str, Any],
    batch: Batch,
    input_std: torch.Tensor | None,
) -> torch.Tensor:
    """The task loss on FGSM (``steps`` 1) or PGD examples of ``batch``; ``eps`` and the step
    size are in pixel units, converted to input units by the normalisation's ``input_std``."""
    from domainfit.augment.feature_ops import adversarial_loss

    steps = int(adv.get("steps", 1))
    eps = float(adv["eps"])
    size = eps if steps == 1 else float(adv.get("step_size") or 2.5 * eps / steps)
    scale: Any = 1.0 if input_std is None else 1.0 / input_std.to(batch["x"].device)
    return adversarial_loss(model, aligned(loss_fn), batch, eps * scale, steps, size * scale)


def embedding_adversarial_loss(
    model: nn.Module, loss_fn: nn.Module, adv: dict[str, Any], batch: Batch, hook: Any
) -> torch.Tensor:
    """The task loss with the token embeddings moved by FGSM (text models, through ``hook``)."""
    from domainfit.augment.embedding_ops import embedding_adversarial_loss as embed_loss

    return embed_loss(model, aligned(loss_fn), batch, hook, float(adv["eps"]))
