"""Batches built ahead on a background thread (``train.num_workers`` > 0).

Building a batch (indexing, padding, densifying sparse rows) and, on CUDA, copying it into
pinned memory then runs while the main thread drives the model; the pinned batch's copy to
the device is asynchronous. The batches and their order are exactly those of the plain
iteration: building one draws no random numbers, and augmentation (which may set state the
next forward pass reads) stays on the main thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import cast

import torch

_END = object()


class _Failed:
    def __init__(self, err: BaseException) -> None:
        self.err = err


def prefetch(
    batches: Iterable[dict[str, torch.Tensor]], depth: int, *, pin: bool = False
) -> Iterator[dict[str, torch.Tensor]]:
    """Yield ``batches`` in order, up to ``depth`` of them built ahead by one thread. An error
    while building is raised here, at the batch it occurred at; closing the generator (or
    leaving the loop) stops the thread."""
    ready: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def build() -> None:
        try:
            for batch in batches:
                if pin:
                    batch = {k: v.pin_memory() for k, v in batch.items()}
                if not put(batch):
                    return
            put(_END)
        except BaseException as err:  # handed to the consumer, raised there
            put(_Failed(err))

    worker = threading.Thread(target=build, name="domainfit-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.err
            yield cast(dict[str, torch.Tensor], item)
    finally:
        stop.set()
        worker.join()
