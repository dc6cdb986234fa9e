"""The Strategy contract. A strategy decides what trains, at which learning rate, and when; the
trainer only sees torch parameter groups and calls the hooks.

A strategy declares ``group_lrs`` (every group it will ever train, with its learning rate) and,
if it unfreezes over time, ``trains_in(epoch)``. The base turns that into optimizer groups:

- every parameter that will ever train is in the optimizer from the start, at its final
  learning rate, so the scheduler's base learning rates are right from step one;
- freezing is ``requires_grad=False``: the parameter gets no gradient, and torch optimizers skip
  parameters whose ``grad`` is None (the trainer zeroes with ``set_to_none=True``), so neither
  the update nor weight decay touches it;
- the frozen set is derived from the epoch alone (``on_epoch_start``), so a run resumed mid-way
  freezes exactly what the uninterrupted run froze.

Regularisers (``regularize``) act through the same hooks: penalties, train/eval modes, and the
weight-decay split (each group becomes a decayed and an exempt group with the same lr).
A strategy may instead override ``param_groups`` itself (adapters); then the scheduling and
the decay split are its own, and the other hooks still apply.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from domainfit.config import RunConfig
from domainfit.errors import ConfigError
from domainfit.models.backbone import Backbone
from domainfit.models.groups import LayerGroup
from domainfit.registry import Registry
from domainfit.regularizers import Target, build_regularizers, no_decay_ids, split_decay
from domainfit.regularizers.base import Regularizer
from domainfit.regularizers.bn import rest_idle_batchnorm

HEAD = "head"


class Strategy:
    """``groups`` are the backbone's layer groups shallow to deep; ``head`` is the new head;
    ``backbone`` is the module the groups were read from (module types: norms, BatchNorm)."""

    name = "base"
    uses_layer_decay = False  # whether strategy.layer_decay means anything to this strategy
    default_layer_decay: float | None = None
    caches_features = False  # the head trains on backbone features computed once (fit.py)

    def __init__(
        self,
        cfg: RunConfig,
        groups: list[LayerGroup],
        head: nn.Module,
        backbone: nn.Module | None = None,
    ) -> None:
        self.cfg = cfg
        self.groups = groups
        self.head = head
        self.backbone = backbone
        self.epoch = 0
        self._scheduled: list[tuple[str, nn.Parameter]] = []  # (group, param) in the optimizer
        if cfg.strategy.layer_decay is not None and not self.uses_layer_decay:
            raise ConfigError(
                f"strategy.layer_decay does not apply to strategy {self.name}",
                "use it with layerwise_lr, two_stage or gradual_unfreeze, or remove it",
            )
        backbone_params = [np for g in groups for np in g.params]
        # Built now, when the run is built and before any training step (L2-SP snapshots the
        # pretrained weights here; a resumed run rebuilds it before loading its checkpoint).
        self.regularizers = build_regularizers(
            cfg.regularize, Target(backbone_params, self.head_group().params, backbone)
        )
        fixed = set().union(*(r.never_trains() for r in self.regularizers))
        self._fixed = [p for _, p in backbone_params if id(p) in fixed]

    # --- what a strategy declares -------------------------------------------------------------

    def group_lrs(self) -> dict[str, float]:
        """Every group this strategy will ever train (``"head"`` included), with its lr."""
        raise NotImplementedError(f"strategy {self.name} declares neither group_lrs nor groups")

    def trains_in(self, epoch: int) -> set[str] | None:
        """The groups that train in ``epoch``; None: all the optimizer holds (no schedule)."""
        return None

    # --- helpers for declaring ----------------------------------------------------------------

    def head_group(self) -> LayerGroup:
        return LayerGroup(HEAD, list(self.head.named_parameters()))

    def all_groups(self) -> list[LayerGroup]:
        return [*self.groups, self.head_group()]

    def top_down(self) -> list[LayerGroup]:
        """Backbone groups from the top (deepest) down: distance 1, 2, ... from the head."""
        return list(reversed(self.groups))

    def layer_decay(self) -> float | None:
        decay = self.cfg.strategy.layer_decay
        return decay if decay is not None else self.default_layer_decay

    def decayed(self, lr: float, distance: int) -> float:
        """``lr * layer_decay ** distance`` (head distance 0); ``lr`` when there is no decay.
        Distances count every group, frozen or not, so freezing never shifts the others."""
        decay = self.layer_decay()
        return lr if decay is None else lr * decay**distance

    def top_groups(self, n: int | None) -> list[LayerGroup]:
        """The top ``n`` backbone groups (all when None), deepest first."""
        if n is not None and n > len(self.groups):
            raise ConfigError(
                f"strategy.unfreeze_top={n} but the backbone has {len(self.groups)} layer groups",
                f"set strategy.unfreeze_top to at most {len(self.groups)} (see domainfit inspect)",
            )
        return self.top_down()[: len(self.groups) if n is None else n]

    # --- what the trainer calls ---------------------------------------------------------------

    def param_groups(self) -> list[dict[str, Any]]:
        """Torch param groups: per layer group a decayed and an exempt group, same lr. Groups
        never trained (and parameters a regulariser fixes) are left out with no gradient."""
        lrs = self.group_lrs()
        groups = self.all_groups()
        unknown = set(lrs) - {g.name for g in groups}
        assert not unknown, f"strategy {self.name} declared unknown groups {unknown}"
        fixed = {id(p) for p in self._fixed}
        exempt = set() if self.cfg.regularize.decay_norm_bias else self._exempt_ids(groups)
        decay = self.cfg.train.weight_decay
        out: list[dict[str, Any]] = []
        self._scheduled = []
        for grp in groups:
            for _, p in grp.params:
                p.requires_grad_(False)  # on_epoch_start turns on what trains
            if grp.name not in lrs:
                continue
            params = [p for _, p in grp.params if id(p) not in fixed]
            self._scheduled += [(grp.name, p) for p in params]
            decayed, plain = split_decay(params, exempt)
            lr = lrs[grp.name]
            if decayed:
                out.append({"name": grp.name, "params": decayed, "lr": lr, "weight_decay": decay})
            if plain:
                out.append(
                    {"name": f"{grp.name}.no_decay", "params": plain, "lr": lr, "weight_decay": 0.0}
                )
        self._freeze_for(self.epoch)
        return out

    def on_epoch_start(self, epoch: int, optimizer: Any) -> None:
        """Unfreezing: the frozen set is a function of the epoch alone (resumes match)."""
        self.epoch = epoch
        self._freeze_for(epoch)

    def set_train_mode(self, model: nn.Module) -> None:
        """Called after ``model.train()``: BatchNorm of frozen groups rests, regularisers act."""
        module = self.backbone if self.backbone is not None else getattr(model, "encoder", None)
        if module is not None:
            rest_idle_batchnorm(module)
        for reg in self.regularizers:
            reg.set_train_mode(model)

    @property
    def has_penalty(self) -> bool:
        """Whether a regulariser adds a loss term (so the trainer logs train.penalty)."""
        return any(type(r).penalty is not Regularizer.penalty for r in self.regularizers)

    def penalty(self, model: nn.Module) -> torch.Tensor | None:
        """The regularisers' extra loss (L1, L2-SP), added by the trainer to the task loss."""
        terms = [t for r in self.regularizers if (t := r.penalty()) is not None]
        return torch.stack(terms).sum() if terms else None

    @classmethod
    def prepare(cls, cfg: RunConfig, backbone: Backbone) -> None:
        """Change the backbone before its layer groups are read (adapters); none in the base."""
        return

    def finalize(self, model: nn.Module) -> None:
        """After training, before the final weights are saved: fold adapters back in."""

    def state_dict(self) -> dict[str, Any]:
        # Redundant with the trainer's epoch (on_epoch_start re-derives the frozen set), but it
        # lets a restored strategy freeze correctly even before its next on_epoch_start.
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "epoch" in state:
            self.epoch = int(state["epoch"])
            self._freeze_for(self.epoch)

    # --- for inspect --------------------------------------------------------------------------

    def plan(self, epochs: int | None = None) -> list[dict[str, Any]]:
        """Per group: size, whether it ever trains, its lr, and ``epochs``: the lr it trains
        at in each epoch (None while frozen). Learning rates are the declared ones, before
        ``train.schedule`` scales them step by step."""
        n_epochs = epochs if epochs is not None else self.cfg.train.epochs
        lr_of = {
            id(p): g.get("lr", self.cfg.train.lr) for g in self.param_groups() for p in g["params"]
        }
        rows = []
        for grp in self.all_groups():
            lrs = [lr_of[id(p)] for _, p in grp.params if id(p) in lr_of]
            lr = max(lrs) if lrs else 0.0
            per_epoch = [lr if lrs and self._trains(grp.name, e) else None for e in range(n_epochs)]
            rows.append(
                {
                    "group": grp.name,
                    "params": grp.numel,
                    "trains": any(x is not None for x in per_epoch),
                    "lr": lr,
                    "epochs": per_epoch,
                }
            )
        return rows

    # --- internals ----------------------------------------------------------------------------

    def _trains(self, group: str, epoch: int) -> bool:
        now = self.trains_in(epoch)
        return now is None or group in now

    def _freeze_for(self, epoch: int) -> None:
        now = self.trains_in(epoch)
        for group, p in self._scheduled:
            on = now is None or group in now
            p.requires_grad_(on)
            if not on:
                p.grad = None
        # Also for strategies that build their own param groups: what a regulariser fixes
        # (frozen BatchNorm) gets no gradient, so the optimizer skips it.
        for p in self._fixed:
            p.requires_grad_(False)
            p.grad = None

    def _exempt_ids(self, groups: list[LayerGroup]) -> set[int]:
        from domainfit.regularizers.decay import skips_decay

        if self.backbone is not None:
            return no_decay_ids([self.backbone, self.head])
        # No module to read types from: names and shapes decide (norm weights are 1-D).
        by_name = {id(p) for g in groups for n, p in g.params if skips_decay(n, p)}
        return by_name | no_decay_ids([self.head])


STRATEGIES: Registry[type[Strategy]] = Registry("strategy")


def strategy_class(cfg: RunConfig) -> type[Strategy]:
    return STRATEGIES.get(cfg.strategy.name)


def build_strategy(
    cfg: RunConfig, groups: list[LayerGroup], head: nn.Module, backbone: nn.Module | None = None
) -> Strategy:
    return strategy_class(cfg)(cfg, groups, head, backbone)
