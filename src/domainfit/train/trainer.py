"""The training loop on Hugging Face Accelerate: accumulation, clipping, mixed precision,
validation, early stopping, a NaN guard, and checkpoints a resumed run continues exactly.

Under ``torchrun`` / ``accelerate launch`` it trains data-parallel (see ``distributed``):
``train.batch_size`` stays the global batch, each process trains on its stripe of it, and
gradients, running losses and validation sums are summed across processes.

The hot path never waits on the device for a number (on a GPU that would stall the queue of
kernels every batch): the losses stay device tensors and are read in bulk at validation,
checkpoints and epoch ends, summed in the same order as one read per batch would, so every
number (and a resumed run) is bit-identical. The NaN guard reads each step's losses through an
asynchronous copy a few steps later (on the CPU, where reading costs nothing, before the step
itself), and always before anything is saved.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType
from torch import nn

from domainfit.adapt.adapter import Adapter, pseudo_label_count, validator_scores
from domainfit.config import TrainConfig
from domainfit.data.loaders import Batches, EncodedSet
from domainfit.errors import DomainfitError
from domainfit.evaluate.outputs import model_outputs
from domainfit.progress import TrainingProgress, say, silenced
from domainfit.train import distributed
from domainfit.train.checkpoint import (
    load_checkpoint,
    resume_point,
    save_checkpoint,
)
from domainfit.train.evaluation import evaluate_loss_accuracy
from domainfit.train.loss_ledger import Divergence, LossLedger
from domainfit.train.optim import build_optimizer, build_scheduler
from domainfit.train.prefetch import prefetch
from domainfit.train.run_files import save_weights, write_step_losses
from domainfit.train.step_losses import (
    adapted_losses,
    align,
    embedding_adversarial_loss,
    input_adversarial_loss,
)


class TrainingDivergedError(DomainfitError):
    """The loss became NaN or infinite."""


@dataclass
class FitResult:
    history: list[dict[str, float]]
    best: dict[str, float] | None
    stopped_early: bool
    global_step: int
    best_model: Path | None = None
    lr_trace: list[dict[str, Any]] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    steps_per_epoch: int = 1
    timed_out: bool = False  # train.max_seconds ended it before train.epochs


@dataclass
class _State:
    epoch: int = 0
    next_batch: int = 0
    global_step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best: dict[str, float] | None = None
    bad_evals: int = 0
    stopped_early: bool = False
    # the epoch's running training loss, kept so a resumed epoch reports the same mean
    loss_sum: float = 0.0
    loss_count: int = 0
    penalty_sum: float = 0.0
    domain_sum: float = 0.0
    pseudo_sum: float = 0.0
    # self-training's current pseudo-label per target pool sample (-1: none)
    pseudo: list[int] | None = None
    # each layer group's learning rate at sampled optimizer steps, for the report
    lr_trace: list[dict[str, Any]] = field(default_factory=list)
    # the task loss of every optimizer step (mean over its micro-batches): spikes and stalls
    # that epoch means hide are what ``diagnose`` reads
    step_losses: list[float] = field(default_factory=list)


LR_TRACE_POINTS = 200  # about this many samples of the learning rates per run


class Trainer:
    """``loss_fn(logits, labels)``; ``groups`` are torch param groups (from a strategy)."""

    def __init__(
        self,
        model: nn.Module,
        loss_fn: nn.Module,
        groups: list[dict[str, Any]],
        cfg: TrainConfig,
        run_dir: Path,
        *,
        seed: int = 0,
        checkpoint_every: int | None = None,
        hooks: Any = None,
        penalty: Callable[[nn.Module], torch.Tensor | None] | None = None,
        adapter: Adapter | None = None,
        augment: Callable[[dict[str, torch.Tensor], int, int], dict[str, torch.Tensor]]
        | None = None,
        select_metric: str | None = None,
        task: str = "multiclass",
        watch: dict[str, EncodedSet] | None = None,
        on_evaluate: Callable[[dict[str, float]], None] | None = None,
    ) -> None:
        self.cfg, self.seed, self.run_dir = cfg, seed, run_dir
        self.checkpoint_every = checkpoint_every
        self.hooks = hooks  # a Strategy: on_epoch_start, set_train_mode, state_dict
        self.penalty = penalty  # regularisers' extra loss (L1, L2-SP), added to the task loss
        precision = "no" if cfg.precision == "fp32" else cfg.precision
        self.accelerator = _accelerator(precision)
        # the process group (if launched with several processes) exists once Accelerate is up
        self.world, self.rank = distributed.world_size(), distributed.rank()
        self.model = model.to(self.accelerator.device)
        self.loss_fn = loss_fn
        self.adapter, self.task = adapter, task
        # training batches only; called with (batch, epoch, batch position) on the CPU
        self.augment = augment
        ops = getattr(augment, "model_ops", {})
        self._adversarial = ops.get("fgsm") or ops.get("pgd")
        self._embed_adversarial = ops.get("embed_fgsm")
        self._input_std = getattr(augment, "std", None)  # pixel-unit eps -> input units
        # "last", a validator ("val.target_im"), or None for early stopping's metric / val.loss
        self.select_metric = select_metric
        # extra labelled sets scored at every validation ("target.val" -> target.val.accuracy),
        # and a callback that sees each validation row: a sweep's pruner raises from it
        self.watch = watch or {}
        self.on_evaluate = on_evaluate
        # the domain loss's own parameters (a discriminator) train and checkpoint with the model
        self.saved: nn.Module = self.model
        if adapter is not None and adapter.loss is not None:
            adapter.loss.to(self.accelerator.device)
            self.saved = nn.ModuleDict({"model": self.model, "adapt": adapter.loss})
            extra = [p for p in adapter.loss.parameters() if p.requires_grad]
            if extra:
                groups = [*groups, {"params": extra, "name": "adapt"}]
        self.optimizer = build_optimizer(groups, cfg)
        self.scheduler: Any = None
        self.state = _State()
        self.bar = TrainingProgress(cfg.epochs, 0)
        self.device = self.accelerator.device
        self.losses = LossLedger(self.device)  # read in bulk; the NaN guard
        self._clip_params: list[torch.Tensor] = []
        # without a loss scaler (fp32, bf16) Accelerate's backward and clipping come down to
        # torch's own (after a division by 1 and a walk over the parameters): call those
        acc = self.accelerator
        self._plain = acc.scaler is None and acc.distributed_type in _PLAIN
        # Accelerate's autocast() rebuilds its state per call, even when it does nothing
        self._autocast: Callable[[], AbstractContextManager[Any]] = (
            nullcontext if precision == "no" else acc.autocast
        )
        # several processes: each micro-batch's (loss, penalty, domain, pseudo) of this process,
        # weighted by its share of the batch, summed across processes at the optimizer step;
        # and the first non-finite loss seen since, raised on every process at that step
        self._pending: list[tuple[float, float, float, float]] = []
        self._bad: float | None = None
        self._deadline: float | None = None  # train.max_seconds, as a monotonic time
        self.timed_out = False

    def fit(self, train: EncodedSet, val: EncodedSet | None, *, resume: bool = False) -> FitResult:
        n_batches = len(Batches(train, self.cfg.batch_size, shuffle=False))
        steps_per_epoch = math.ceil(n_batches / self.cfg.grad_accum)
        self.scheduler = build_scheduler(self.optimizer, self.cfg, steps_per_epoch)
        self.steps_per_epoch = steps_per_epoch
        self.trace_every = max(1, steps_per_epoch * self.cfg.epochs // LR_TRACE_POINTS)
        ckpt_dir = self.run_dir / "checkpoints"
        if resume:
            self._resume(ckpt_dir)
        distributed.sync_module(self.saved)
        # the module's parameters do not change during fit (strategies only freeze them);
        # listing them once spares a walk over every submodule at every step
        self._clip_params = list(self.saved.parameters())
        progress = TrainingProgress(self.cfg.epochs, n_batches, len(train))
        if self.cfg.max_seconds is not None:
            self._deadline = time.monotonic() + self.cfg.max_seconds
        # only rank 0 draws progress
        with silenced(self.rank != 0), progress as bar:
            self.bar = bar
            while (
                self.state.epoch < self.cfg.epochs
                and not self.state.stopped_early
                and not self.timed_out
            ):
                self._epoch(train, val, n_batches)
                if not self._evaluated_now():
                    self._evaluate(val)
                bar.epoch_done(self.state.epoch, self.state.history[-1])
                self.state.epoch += 1
                self.state.next_batch = 0
                self._reset_running_sums()
                self._checkpoint(ckpt_dir)
                if self.world > 1 and self._deadline is not None:  # every process stops alike
                    self.timed_out = distributed.from_main(self._past_deadline)
        best_model = self.run_dir / "model" / "model.safetensors"
        return FitResult(
            self.state.history,
            self.state.best,
            self.state.stopped_early,
            self.state.global_step,
            best_model if best_model.is_file() else None,
            self.state.lr_trace,
            self.state.step_losses,
            steps_per_epoch,
            self.timed_out,
        )

    def _resume(self, ckpt_dir: Path) -> None:
        last = resume_point(ckpt_dir)  # the newest intact one, checked file by file
        distributed.check_same(str(last and last.name), "the checkpoint to resume from")
        if last is None:  # killed before its first checkpoint: nothing to continue from
            say(f"no checkpoint in {ckpt_dir} yet: training starts from step 0")
            return
        ckpt = load_checkpoint(last, self.saved, self.optimizer, self.scheduler)
        strategy_state = ckpt.state.pop("strategy", {})
        self.state = _State(**ckpt.state)
        if self.hooks is not None:
            self.hooks.load_state_dict(strategy_state)

    def _reset_running_sums(self) -> None:
        self.losses.read(self.state)
        st = self.state
        st.loss_sum, st.loss_count, st.penalty_sum = 0.0, 0, 0.0
        st.domain_sum, st.pseudo_sum = 0.0, 0.0

    def _train_mode(self) -> None:
        self.model.train()
        if self.hooks is not None:
            self.hooks.set_train_mode(self.model)

    def _epoch(self, train: EncodedSet, val: EncodedSet | None, n_batches: int) -> None:
        if self.hooks is not None:
            self.hooks.on_epoch_start(self.state.epoch, self.optimizer)
        if self.adapter is not None and self.state.next_batch == 0:
            self._refresh_pseudo_labels()
        self._train_mode()
        batches = Batches(
            train,
            self.cfg.batch_size,
            shuffle=True,
            seed=self.seed,
            epoch=self.state.epoch,
            start_batch=self.state.next_batch,
            rank=self.rank,
            world=self.world,
            bucket=self.cfg.bucket_by_length,
        )
        accum = self.cfg.grad_accum
        every = self.cfg.eval_every_steps
        self.bar.epoch_start(self.state.epoch, self.state.next_batch)
        with closing(self._prefetched(batches)) as ready:
            for b, batch in enumerate(ready, start=self.state.next_batch):
                if self.world == 1:
                    self._micro_batch(batch, b, n_batches)
                else:
                    self._shared_micro_batch(batch, b, n_batches, len(batches.global_rows(b)))
                if (b + 1) % accum == 0 or b + 1 == n_batches:
                    self._step()
                    self.state.next_batch = b + 1
                    if every and self.state.global_step % every == 0:
                        self._evaluate(val)
                        if self.state.stopped_early:
                            return
                        self._train_mode()  # evaluation left the model in plain train mode
                    ckpt_every = self.checkpoint_every
                    if ckpt_every and self.state.global_step % ckpt_every == 0:
                        self._checkpoint(self.run_dir / "checkpoints")
                    if self.world == 1 and self._past_deadline():
                        # validated next (fit), so the best model also weighs this last stretch
                        self.timed_out = True
                        return

    def _past_deadline(self) -> bool:
        if self._deadline is None or time.monotonic() < self._deadline:
            return False
        if not self.timed_out:
            say(
                f"train.max_seconds={self.cfg.max_seconds:g} reached at epoch "
                f"{self.state.epoch + 1}, step {self.state.global_step}: training stops here "
                "and keeps the best model so far"
            )
        return True

    def _prefetched(self, batches: Batches) -> Iterator[dict[str, torch.Tensor]]:
        """``train.num_workers`` > 0: a background thread builds that many batches ahead (and
        pins them on CUDA, so their copy to the device overlaps compute)."""
        if self.cfg.num_workers == 0:
            return iter(batches)
        return prefetch(batches, self.cfg.num_workers, pin=self.device.type == "cuda")

    def _micro_batch(self, batch: dict[str, torch.Tensor], b: int, n_batches: int) -> None:
        """Forward and backward of one micro-batch in a single process. Nothing here reads a
        number from the device: the NaN guard looks at these losses at the step."""
        loss, extra, adapt_loss, parts = self._losses(batch, b, n_batches)
        value = loss.detach().float()
        self.losses.watch(value)
        total = loss if extra is None else loss + extra
        if adapt_loss is not None:
            self.losses.watch(adapt_loss.detach().float())
            total = total + adapt_loss
        accum = self.cfg.grad_accum
        total = total if accum == 1 else total / accum
        if self._plain:
            total.backward()
        else:
            self.accelerator.backward(total)
        self._add(value, _detached(extra), *parts)

    def _shared_micro_batch(
        self, batch: dict[str, torch.Tensor], b: int, n_batches: int, n_global: int
    ) -> None:
        """This process's stripe of a micro-batch. Its losses are scaled by its share of the
        global batch, so the gradients summed across processes are the global batch's mean
        gradient; a non-finite loss is raised at the step, on every process alike."""
        n_local = len(next(iter(batch.values()))) if batch else 0
        if n_local == 0:  # a last batch smaller than the number of processes
            self._pending.append((0.0, 0.0, 0.0, 0.0))
            return
        share = n_local / n_global
        loss, extra, adapt_loss, parts = self._losses(batch, b, n_batches)
        total = loss if extra is None else loss + extra
        if adapt_loss is not None:
            total = total + adapt_loss
        for value in (loss, adapt_loss):
            if value is not None and not torch.isfinite(value) and self._bad is None:
                self._bad = float(value.detach())
        self.accelerator.backward(total * (share / self.cfg.grad_accum))
        domain, pseudo = (float(v) for v in parts)
        value = float(loss.detach())
        penalty = 0.0 if extra is None else float(extra.detach())
        self._pending.append((share * value, share * penalty, share * domain, share * pseudo))

    def _losses(
        self, batch: dict[str, torch.Tensor], b: int, n_batches: int
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, tuple[Any, Any]]:
        """Task loss, regularisers' penalty, adaptation loss, and the domain and pseudo-label
        losses (for the epoch's means; floats or detached tensors) of one micro-batch."""
        if self.augment is not None:
            # every process draws its own augmentations; a single process draws as before
            batch = self.augment(batch, self.state.epoch, b * self.world + self.rank)
        # non_blocking: a plain copy to a GPU waits for every kernel queued before it
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        parts: tuple[Any, Any] = (0.0, 0.0)
        with self._autocast():
            if self.adapter is None:
                logits = self.model(batch)
                loss = self.loss_fn(*align(logits, batch["labels"]))
                adapt_loss = None
                if self._adversarial is not None:
                    adv = input_adversarial_loss(
                        self.model, self.loss_fn, self._adversarial, batch, self._input_std
                    )
                    loss = 0.5 * (loss + adv)
                elif self._embed_adversarial is not None:
                    hook = self.augment.embedding_hook  # type: ignore[union-attr]
                    adv = embedding_adversarial_loss(
                        self.model, self.loss_fn, self._embed_adversarial, batch, hook
                    )
                    loss = 0.5 * (loss + adv)
            else:
                position = self.state.epoch * n_batches + b
                loss, adapt_loss, parts = self._adapted_losses(batch, position)
        extra = self.penalty(self.model) if self.penalty is not None else None
        return loss, extra, adapt_loss, parts

    def _add(self, loss: Any, penalty: Any, domain: Any, pseudo: Any) -> None:
        """One micro-batch's losses (floats or detached tensors), for the running sums."""
        self.losses.add(loss, penalty, domain, pseudo)
        self.bar.batch_done(self._running_loss)

    def _running_loss(self) -> float:
        self.losses.read(self.state)
        return self.state.loss_sum / max(1, self.state.loss_count)

    def _adapted_losses(
        self, batch: dict[str, torch.Tensor], position: int
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[Any, Any]]:
        """Losses of this source batch paired with the ``position``-th target batch. Several
        processes split the target batch as they split the source's."""
        adapter = self.adapter
        assert adapter is not None
        tb = adapter.target_batch(position, self.state.pseudo)
        tb = distributed.stripe(tb, self.rank, self.world)
        tb = {k: v.to(self.device, non_blocking=True) for k, v in tb.items()}
        progress = self.state.global_step / max(1, self.steps_per_epoch * self.cfg.epochs)
        return adapted_losses(self.model, self.loss_fn, adapter, batch, tb, progress)

    def _target_probs(self, pool: EncodedSet) -> Any:
        return model_outputs(self.model, pool, self.task, self.cfg.batch_size, self.device)

    def _refresh_pseudo_labels(self) -> None:
        adapter = self.adapter
        assert adapter is not None
        if not adapter.pseudo_labels_due(self.state.epoch):
            return
        # rank 0 labels the pool for all: every process then trains on the same labels
        self.state.pseudo = distributed.from_main(self._pseudo_labels)

    def _pseudo_labels(self) -> list[int]:
        assert self.adapter is not None
        probs = self._target_probs(self.adapter.pool)
        return self.adapter.refresh_pseudo_labels(self.state.epoch, probs)

    def _step(self) -> None:
        if self.world > 1:
            self._reduce()
        else:
            st = self.state
            lr = float(self.optimizer.param_groups[0]["lr"])
            self._diverged(self.losses.guard_step(st.global_step, st.epoch, lr))
        self.losses.close_step(self.state)
        if self.state.global_step % self.trace_every == 0:
            self._trace_lr()
        if self.cfg.clip_grad_norm is not None:
            if self._plain:
                torch.nn.utils.clip_grad_norm_(self._clip_params, self.cfg.clip_grad_norm)
            else:
                self.accelerator.clip_grad_norm_(self._clip_params, self.cfg.clip_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.state.global_step += 1
        if self.world > 1:
            distributed.sync_buffers(self.saved)

    def _check_finite(self) -> None:
        """The NaN guard over every step so far: a non-finite loss raises."""
        self._diverged(self.losses.check())

    def _trained_params(self) -> list[torch.Tensor]:
        return [p for g in self.optimizer.param_groups for p in g["params"] if p.requires_grad]

    def _reduce(self) -> None:
        """Sum gradients, the micro-batches' weighted losses and the divergence flag across
        processes: then every process steps, reports and stops alike."""
        flags = [0.0 if self._bad is None else 1.0]
        stats = [v for row in self._pending for v in row]
        summed = distributed.reduce_step(self._trained_params(), [*stats, *flags])
        if summed[-1] > 0:
            lr = float(self.optimizer.param_groups[0]["lr"])
            value = math.nan if self._bad is None else self._bad
            self._diverged(Divergence(value, self.state.global_step, self.state.epoch, lr))
        for i in range(len(self._pending)):
            loss, penalty, domain, pseudo = summed[4 * i : 4 * i + 4]
            self._add(loss, penalty, domain, pseudo)
        self._pending, self._bad = [], None

    def _trace_lr(self) -> None:
        """The rate each group steps with now; 0 for a group whose parameters are frozen. Weight
        decay splits a group in two (``<name>.no_decay``) at the same rate: one entry."""
        rates: dict[str, float] = {}
        for i, g in enumerate(self.optimizer.param_groups):
            name = str(g.get("name", f"group{i}")).removesuffix(".no_decay")
            trains = any(p.requires_grad for p in g["params"])
            rates[name] = max(rates.get(name, 0.0), float(g["lr"]) if trains else 0.0)
        step = self.state.global_step
        epoch = step / self.steps_per_epoch
        self.state.lr_trace.append({"step": step, "epoch": round(epoch, 4), "lr": rates})

    def _diverged(self, bad: Divergence | None) -> None:
        """Raise for ``bad``, the first non-finite loss, seen at optimizer step ``bad.step``
        (later steps may have run since: they are dropped from the record); None: all finite."""
        if bad is None:
            return
        value, step, epoch, lr = bad.value, bad.step, bad.epoch, bad.lr
        self.losses.read(self.state)
        # what led here stays readable for ``diagnose`` (lr_too_high), non-finite as null
        if self.rank == 0:
            losses = [*self.state.step_losses[:step], value]
            write_step_losses(self.run_dir, losses, self.steps_per_epoch)
        raise TrainingDivergedError(
            f"loss became {value} at epoch {epoch + 1}, optimizer step {step} (learning rate "
            f"{lr:.3g}); the last good checkpoint is in {self.run_dir / 'checkpoints'}",
            "lower train.lr, keep train.clip_grad_norm on, or check the inputs for NaN/Inf",
        )

    @torch.no_grad()
    def _evaluate(self, val: EncodedSet | None) -> None:
        self._check_finite()  # the best model is never a diverged one
        self.losses.read(self.state)
        row: dict[str, float] = {
            # counted from 1, as the console says it ("epoch 1/3"): at an epoch's end it is the
            # epochs done, like the ``epoch`` of lr.jsonl and losses.jsonl
            "epoch": float(self.state.epoch + 1),
            "step": float(self.state.global_step),
        }
        if self.state.loss_count:
            row["train.loss"] = self.state.loss_sum / self.state.loss_count
            if self.penalty is not None:
                row["train.penalty"] = self.state.penalty_sum / self.state.loss_count
            if self.adapter is not None and self.adapter.loss is not None:
                row["train.domain_loss"] = self.state.domain_sum / self.state.loss_count
            if self.adapter is not None and self.adapter.cfg.self_training.enabled:
                row["train.pseudo_loss"] = self.state.pseudo_sum / self.state.loss_count
                row["adapt.pseudo_labels"] = float(pseudo_label_count(self.state.pseudo))
        if val is not None and len(val) > 0:
            row.update(self._scores(val))
        if self.select_metric in ("val.target_im", "val.target_snd"):
            scores = distributed.from_main(self._validator_scores)
            row.update({f"val.target_{k}": v for k, v in scores.items()})
        for name, data in self.watch.items():
            if len(data) and data.labels is not None:
                scores = self._scores(data)
                row.update({f"{name}.{k.removeprefix('val.')}": v for k, v in scores.items()})
        row = distributed.broadcast_row(row)
        self.state.history.append(row)
        self._track_best(row)
        if self.on_evaluate is not None:
            self.on_evaluate(row)

    def _scores(self, data: EncodedSet) -> dict[str, float]:
        """Each process scores its stripe of ``data``; the sums are added across processes."""
        return evaluate_loss_accuracy(
            self.model,
            self.loss_fn,
            data,
            self.cfg.batch_size,
            self.device,
            rank=self.rank,
            world=self.world,
        )

    def _validator_scores(self) -> dict[str, float]:
        assert self.adapter is not None
        return validator_scores(self._target_probs(self.adapter.validator_pool()))

    def _evaluated_now(self) -> bool:
        """Step-based validation may already have run at this very step."""
        hist = self.state.history
        return bool(hist) and hist[-1]["step"] == self.state.global_step

    def _track_best(self, row: dict[str, float]) -> None:
        es = self.cfg.early_stopping
        if self.select_metric == "last":
            self.state.best = dict(row)
            self._save_best()
            return
        metric = es.metric if es else self.select_metric or "val.loss"
        if metric not in row:
            return
        mode = es.mode if es else "max" if metric.startswith("val.target_") else "auto"
        if mode == "auto":
            mode = "min" if metric.endswith("loss") else "max"
        sign = 1.0 if mode == "max" else -1.0
        delta = es.min_delta if es else 0.0
        best = self.state.best
        if best is None or sign * (row[metric] - best[metric]) > delta:
            self.state.best, self.state.bad_evals = dict(row), 0
            self._save_best()
        else:
            self.state.bad_evals += 1
            if es and self.state.bad_evals >= es.patience:
                self.state.stopped_early = True

    def _save_best(self) -> None:
        if self.rank == 0:
            save_weights(self.model, self.run_dir / "model" / "model.safetensors")

    def _checkpoint(self, folder: Path) -> None:
        self._check_finite()  # a checkpoint is always a good one
        self.losses.read(self.state)  # every process: ``fit`` returns the step losses
        if self.rank != 0:
            return
        state = dict(self.state.__dict__)
        state["strategy"] = self.hooks.state_dict() if self.hooks is not None else {}
        step = self.state.global_step
        save_checkpoint(folder, step, self.saved, self.optimizer, self.scheduler, state)


_PLAIN = (DistributedType.NO, DistributedType.MULTI_CPU, DistributedType.MULTI_GPU)


def _accelerator(precision: str) -> Accelerator:
    """Accelerate keeps one process-wide state; a later run in the same process (the demo, a
    sweep, the tests) may ask for another precision, so that state is reset first. The reset
    forgets Accelerate's record only: a launcher's process group stays up and is reused."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    return Accelerator(mixed_precision=precision, cpu=not torch.cuda.is_available())


def _detached(t: torch.Tensor | None) -> Any:
    return 0.0 if t is None else t.detach().float()
