"""Validation loss and accuracy (or MAE/RMSE) of a model on an encoded set, summed across
processes when several train together."""

from __future__ import annotations

import math

import torch
from torch import nn

from domainfit.data.loaders import Batches, EncodedSet
from domainfit.progress import track_batches
from domainfit.train import distributed
from domainfit.train.step_losses import align


@torch.no_grad()
def evaluate_loss_accuracy(
    model: nn.Module,
    loss_fn: nn.Module,
    data: EncodedSet,
    batch_size: int,
    device: torch.device,
    *,
    rank: int = 0,
    world: int = 1,
) -> dict[str, float]:
    """Loss plus accuracy (classification) or MAE and RMSE in label units (float labels mean
    regression). With ``world`` > 1 this process scores its stripe of every batch and the sums
    are added across processes, so every process returns the same numbers."""
    model.eval()
    regression = data.labels is not None and data.labels.dtype.kind == "f"
    # per batch: its size and device scalars, read once all batches are queued (reading each
    # batch's numbers at once would make the device finish it before the next starts)
    rows: list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]] = []
    batches = Batches(data, batch_size, shuffle=False, rank=rank, world=world)
    for batch in track_batches(batches, "validating"):
        if len(batch["labels"]) == 0:
            continue
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        logits = model(batch)
        out, target = align(logits, batch["labels"])
        loss = loss_fn(out, target)
        if regression:
            err = out - target
            rows.append((len(target), loss, err.abs().sum(), (err**2).sum()))
        else:
            pred = (out > 0).long() if out.dim() == 1 else out.argmax(-1)
            rows.append((len(target), loss, (pred == target.long()).sum(), loss))
    model.train()
    total, correct, loss_sum, abs_sum, sq_sum = 0, 0, 0.0, 0.0, 0.0
    for n, loss, a, b in rows:
        loss_sum += float(loss) * n
        if regression:
            abs_sum += float(a)
            sq_sum += float(b)
        else:
            correct += int(a)
        total += n
    if world > 1:
        sums = distributed.all_reduce_sums([total, correct, loss_sum, abs_sum, sq_sum])
        total, correct = int(sums[0]), int(sums[1])
        loss_sum, abs_sum, sq_sum = sums[2:]
    if regression:
        return {
            "val.loss": loss_sum / total,
            "val.mae": abs_sum / total,
            "val.rmse": math.sqrt(sq_sum / total),
        }
    return {"val.loss": loss_sum / total, "val.accuracy": correct / total}
