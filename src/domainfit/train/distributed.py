"""Data-parallel training under ``torchrun`` / ``accelerate launch``, without wrapping the model.

Every process holds the whole model and trains on its own stripe (rows ``rank::world``) of each
global batch; after the backward passes of an optimizer step the gradients are summed across
processes in one all-reduce, so every process takes the same step and the weights stay equal.
The model is not wrapped in DistributedDataParallel because domain adaptation and adversarial
augmentation call ``model.features`` / ``model.head`` directly, which DDP's hooks do not see.

With a single process (no launcher, or ``--nproc_per_node 1``) every helper here is a no-op, so
such a run is exactly the plain one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from domainfit.errors import ConfigError, DomainfitError

T = TypeVar("T")


def _group_ready() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """How many processes train together: the process group's size, else the launcher's env."""
    if _group_ready():
        return dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    if _group_ready():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    """Rank 0 alone writes the run folder, checkpoints, reports and tracking."""
    return rank() == 0


def init() -> None:
    """Join the launcher's process group before anything is written (Accelerate's state picks
    gloo on CPU, nccl on GPU, and later ``Accelerator()`` calls reuse the same group)."""
    if world_size() > 1 and not _group_ready():
        from accelerate.state import PartialState

        PartialState(cpu=not torch.cuda.is_available())


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def check_batch_size(batch_size: int) -> None:
    """Each process trains on a stripe of the global batch: every process needs a row."""
    world = world_size()
    if world > batch_size:
        raise ConfigError(
            f"train.batch_size {batch_size} is the global batch, split across {world} "
            "processes: some would get no samples",
            f"set train.batch_size to at least {world}, or launch fewer processes",
        )


def from_main(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` run on rank 0 alone, its result sent to every process. A failure on rank 0
    fails every process (instead of leaving them waiting in the next collective)."""
    if world_size() == 1:
        return fn(*args)
    box: list[Any] = [None]
    if is_main():
        try:
            box[0] = ("ok", fn(*args))
        except BaseException as err:
            box[0] = ("error", str(err))
            dist.broadcast_object_list(box, src=0)
            raise
    dist.broadcast_object_list(box, src=0)
    kind, value = box[0]
    if kind == "error":
        raise DomainfitError(f"rank 0 failed: {value}")
    result: T = value
    return result


def check_same(value: str, what: str) -> None:
    """Every process must see ``value`` as rank 0 does (e.g. the checkpoint a resume starts from:
    the run folder has to be on a filesystem that every node shares)."""
    if world_size() == 1:
        return
    box: list[Any] = [value]
    dist.broadcast_object_list(box, src=0)
    differs = torch.tensor([float(box[0] != value)], dtype=torch.float64, device=_device())
    dist.all_reduce(differs)
    if float(differs) > 0:
        raise ConfigError(
            f"the processes disagree on {what} (rank 0: {box[0]}, rank {rank()}: {value})",
            "put the run folder on a filesystem that every node shares, at the same path",
        )


def _device() -> torch.device:
    """Where collectives run: nccl needs CUDA tensors, gloo takes CPU ones."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def broadcast_tensors(tensors: Sequence[torch.Tensor]) -> None:
    """Overwrite ``tensors`` in place with rank 0's values, one broadcast per dtype."""
    if world_size() == 1 or not tensors:
        return
    by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    device = _device()
    for group in by_dtype.values():
        flat = torch.cat([t.detach().reshape(-1).to(device) for t in group])
        dist.broadcast(flat, src=0)
        offset = 0
        for t in group:
            n = t.numel()
            t.data.copy_(flat[offset : offset + n].view_as(t))
            offset += n


def sync_module(module: nn.Module) -> None:
    """Rank 0's parameters and buffers everywhere: the same start, whatever each process's
    initialisation did."""
    broadcast_tensors([*module.parameters(), *module.buffers()])


def sync_buffers(module: nn.Module) -> None:
    """BatchNorm's running statistics follow each process's own stripe; rank 0's are kept (as
    DistributedDataParallel does), so evaluation and checkpoints see one model."""
    broadcast_tensors(list(module.buffers()))


def reduce_step(params: Sequence[torch.Tensor], stats: Sequence[float]) -> list[float]:
    """Sum every process's ``.grad`` of ``params`` and the floats ``stats`` in one all-reduce of
    a flat float32 buffer. A parameter without a gradient in every process keeps ``None`` (an
    optimizer skips those: a zero gradient would still decay them)."""
    if world_size() == 1:
        return list(stats)
    device = _device()
    grads = [p.grad for p in params]
    parts = [
        g.detach().reshape(-1).float().to(device)
        if g is not None
        else torch.zeros(p.numel(), device=device)
        for p, g in zip(params, grads, strict=True)
    ]
    present = [0.0 if g is None else 1.0 for g in grads]
    tail = torch.tensor([*present, *stats], dtype=torch.float32, device=device)
    flat = torch.cat([*parts, tail])
    dist.all_reduce(flat)
    offset = sum(part.numel() for part in parts)
    anywhere = flat[offset : offset + len(params)].tolist()
    offset = 0
    for p, part, has in zip(params, parts, anywhere, strict=True):
        n = part.numel()
        if has > 0:
            summed = flat[offset : offset + n].view_as(p).to(device=p.device, dtype=p.dtype)
            if p.grad is None:
                p.grad = summed.clone()
            else:
                p.grad.copy_(summed)
        offset += n
    return [float(v) for v in flat[offset + len(params) :].tolist()]


def all_reduce_sums(values: Sequence[float]) -> list[float]:
    """Sum floats across processes in float64 (counts stay exact)."""
    if world_size() == 1:
        return list(values)
    t = torch.tensor(list(values), dtype=torch.float64, device=_device())
    dist.all_reduce(t)
    return [float(v) for v in t.tolist()]


def broadcast_row(row: dict[str, float]) -> dict[str, float]:
    """Rank 0's numbers for a validation row: early stopping and the best model must decide the
    same way on every process, or the processes would stop at different steps and hang."""
    if world_size() == 1 or not row:
        return row
    t = torch.tensor(list(row.values()), dtype=torch.float64, device=_device())
    dist.broadcast(t, src=0)
    return dict(zip(row, (float(v) for v in t.tolist()), strict=True))


def stripe(batch: dict[str, torch.Tensor], rank: int, world: int) -> dict[str, torch.Tensor]:
    """This process's rows of a batch that every process built alike."""
    if world == 1:
        return batch
    return {k: v[rank::world] for k, v in batch.items()}
