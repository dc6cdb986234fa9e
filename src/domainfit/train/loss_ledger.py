"""The training losses on their way from the device to the trainer's running sums, and the NaN
guard over them.

Reading a number from a GPU makes the host wait for every queued kernel, so per micro-batch
the losses stay device tensors and are read in bulk (progress redraws, validation, checkpoints,
epoch ends), folded in the order and with the float arithmetic of one read per micro-batch:
when the reads happen never changes a number, and a resumed run is bit-identical. The NaN
guard copies each optimizer step's losses to the host asynchronously and reads them ``lag``
steps later (at once on the CPU, where reading costs nothing); the trainer checks all of them
before it validates or saves anything.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import torch

# on a GPU the NaN guard reads a step's losses this many steps later, when the copy has landed
GUARD_LAG = 2
READ_EVERY = 1024  # unread micro-batch losses kept on the device at most (then one read)
_STEP = None  # in the unread losses: an optimizer step ends here


class RunningSums(Protocol):
    """The part of the trainer's state the ledger adds to."""

    loss_sum: float
    loss_count: int
    penalty_sum: float
    domain_sum: float
    pseudo_sum: float
    step_losses: list[float]


@dataclass
class Divergence:
    """The first non-finite loss the guard saw, and where."""

    value: float
    step: int
    epoch: int
    lr: float


@dataclass
class _Watch:
    """One optimizer step's losses as the guard reads them: on their way to the host."""

    step: int
    epoch: int
    lr: float
    values: torch.Tensor  # a host copy (pinned, filled asynchronously on CUDA)
    ready: Any = None  # the CUDA event after the copy; None: ``values`` can be read now


class LossLedger:
    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.lag = 0 if device.type == "cpu" else GUARD_LAG
        # per micro-batch (loss, penalty, domain, pseudo) as tensors or floats, ``_STEP`` after
        # each optimizer step, until ``read`` folds them into the running sums
        self._unread: list[tuple[Any, Any, Any, Any] | None] = []
        self._micro_losses: list[float] = []  # read task losses of the step in progress
        self._watched: list[torch.Tensor] = []  # this step's loss tensors, for the guard
        self._watches: deque[_Watch] = deque()  # steps whose losses wait to be checked

    @property
    def unread_batches(self) -> int:
        """Micro-batches whose losses have not been read from the device yet."""
        return sum(row is not None for row in self._unread)

    def add(self, loss: Any, penalty: Any, domain: Any, pseudo: Any) -> None:
        """One micro-batch's losses (floats or detached tensors), for the running sums."""
        self._unread.append((loss, penalty, domain, pseudo))

    def watch(self, loss: torch.Tensor) -> None:
        """A loss of the step in progress that must be finite (the guard)."""
        self._watched.append(loss)

    def guard_step(self, step: int, epoch: int, lr: float) -> Divergence | None:
        """At an optimizer step: its losses start towards the host, and the guard checks every
        step older than ``lag``. Returns the first non-finite loss found, if any."""
        bad = self._watch_step(step, epoch, lr)
        return bad if bad is not None else self.check(keep=self.lag)

    def close_step(self, sums: RunningSums) -> None:
        """The micro-batches added since the last step make up one optimizer step."""
        self._unread.append(_STEP)
        if len(self._unread) >= READ_EVERY:
            self.read(sums)

    def _watch_step(self, step: int, epoch: int, lr: float) -> Divergence | None:
        watched, self._watched = self._watched, []
        if not watched:
            return None
        if self.lag == 0 and self.device.type == "cpu":  # reading costs nothing: check now
            for t in watched:
                if not math.isfinite(value := float(t)):
                    return Divergence(value, step, epoch, lr)
            return None
        values = watched[0].reshape(1) if len(watched) == 1 else torch.stack(watched)
        ready = None
        if values.device.type == "cuda":
            host = torch.empty(values.shape, dtype=values.dtype, pin_memory=True)
            host.copy_(values, non_blocking=True)
            ready = torch.cuda.Event()
            ready.record()
            values = host
        elif values.device.type != "cpu":
            values = values.cpu()
        self._watches.append(_Watch(step, epoch, lr, values, ready))
        return None

    def check(self, keep: int = 0) -> Divergence | None:
        """The guard over all watched steps but the newest ``keep`` (those may still be on
        their way): the first non-finite loss, naming the step it appeared at."""
        while len(self._watches) > keep:
            watch = self._watches.popleft()
            if watch.ready is not None:
                watch.ready.synchronize()  # waits for this copy only, not for later kernels
            for value in watch.values.tolist():
                if not math.isfinite(value):
                    return Divergence(value, watch.step, watch.epoch, watch.lr)
        return None

    def read(self, sums: RunningSums) -> None:
        """Fold the unread losses into ``sums`` and its ``step_losses``, in the order and with
        the float arithmetic of one read per micro-batch. One copy from the device."""
        if not self._unread:
            return
        tensors = [v for row in self._unread if row is not None for v in row if _is_tensor(v)]
        values = iter(torch.stack(tensors).tolist() if tensors else [])
        for row in self._unread:
            if row is None:  # _STEP: the step's loss is the mean over its micro-batches
                losses = self._micro_losses
                sums.step_losses.append(sum(losses) / max(1, len(losses)))
                self._micro_losses = []
                continue
            loss, penalty, domain, pseudo = (next(values) if _is_tensor(v) else v for v in row)
            sums.loss_sum += loss
            self._micro_losses.append(loss)
            sums.loss_count += 1
            sums.penalty_sum += penalty
            sums.domain_sum += domain
            sums.pseudo_sum += pseudo
        self._unread = []


def _is_tensor(v: Any) -> bool:
    return isinstance(v, torch.Tensor)
