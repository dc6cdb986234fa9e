"""Every registered strategy (also those other modules register) through the same checks, on a
tiny BERT and a tiny timm CNN with BatchNorm, driven by the real Trainer:

- after a few optimizer steps exactly the parameters the plan trains changed, the rest are
  bit-identical; with ``regularize.batchnorm=frozen`` BatchNorm statistics do not move;
- every parameter's effective learning rate (optimizer.param_groups) is the declared one;
- a run resumed in the middle of gradual unfreezing freezes and steps exactly as the
  uninterrupted run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from domainfit.config import RunConfig
from domainfit.data.loaders import EncodedSet
from domainfit.errors import ConfigError
from domainfit.models.backbone import Backbone, PooledEncoder, load_backbone
from domainfit.models.groups import layer_groups
from domainfit.models.heads import TransferModel, build_head
from domainfit.models.specs import BackboneSpec
from domainfit.strategies import STRATEGIES, Strategy
from domainfit.train.optim import build_optimizer
from domainfit.train.trainer import Trainer
from tests.models.tiny import save_tiny_bert

NAMES = STRATEGIES.names()  # read at collection: strategies registered elsewhere are covered
EPOCHS = 2
STEPS = 3  # optimizer steps per epoch: 12 samples, batch 4


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def _cfg(name: str, **extra: Any) -> RunConfig:
    raw: dict[str, Any] = {
        "data": {"source": "unused.csv"},
        "model": {"backbone": "hf:unused", "head": {"dropout": 0.0}},
        "strategy": {"name": name, **extra.pop("strategy", {})},
        "regularize": extra.pop("regularize", {}),
        "train": {
            "epochs": EPOCHS,
            "batch_size": 4,
            "lr": 1e-2,
            "optimizer": "adamw",
            "schedule": "constant",
            "weight_decay": 0.01,
            **extra.pop("train", {}),
        },
    }
    return RunConfig.model_validate(raw)


def _bert(bert_dir: Path) -> Backbone:
    cfg = _cfg("full")
    assert cfg.model is not None
    backbone = load_backbone(cfg.model.model_copy(update={"backbone": f"hf:{bert_dir}"}))
    # Mean pooling never reads BERT's pooler: without a gradient it could not change, which
    # would blur "exactly the intended parameters changed". It is dropped before groups are read.
    backbone.inner.pooler = None
    return backbone


def _cnn() -> Backbone:
    from domainfit.models.timm_models import build_timm

    torch.manual_seed(0)
    inner = build_timm("resnet10t")
    # timm zero-initialises each block's last BatchNorm scale; with BatchNorm frozen that would
    # cut every residual branch off from the gradient. Pretrained scales are never all zero.
    for module in inner.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
    spec = BackboneSpec("timm", "resnet10t")
    return Backbone(PooledEncoder(inner), inner, "timm_resnet", "image", inner.num_features, spec)


def _text_data(n: int = 12) -> EncodedSet:
    rng = np.random.default_rng(0)
    ids = [[2, *rng.integers(5, 17, size=int(rng.integers(3, 8))).tolist(), 3] for _ in range(n)]
    return EncodedSet({"input_ids": ids}, np.arange(n) % 2)


def _image_data(n: int = 12) -> EncodedSet:
    x = np.random.default_rng(0).normal(size=(n, 3, 16, 16)).astype(np.float32)
    return EncodedSet({"x": x}, np.arange(n) % 2)


def _build(cfg: RunConfig, backbone: Backbone) -> tuple[TransferModel, Strategy]:
    cls = STRATEGIES.get(cfg.strategy.name)
    cls.prepare(cfg, backbone)
    torch.manual_seed(1)
    assert cfg.model is not None
    head = build_head(backbone.out_features, 2, cfg.model.head)
    groups = layer_groups(backbone.inner, backbone.family)
    strategy = cls(cfg, groups, head, backbone.inner)
    strategy.param_groups()  # some refuse a backbone only here (nothing of theirs to train)
    return TransferModel(backbone, head), strategy


class _Recorder:
    """The strategy as the trainer's hooks, snapshotting the model at every epoch start."""

    def __init__(self, strategy: Strategy, model: torch.nn.Module) -> None:
        self.strategy, self.model = strategy, model
        self.snapshots: list[dict[str, torch.Tensor]] = []

    def on_epoch_start(self, epoch: int, optimizer: Any) -> None:
        self.strategy.on_epoch_start(epoch, optimizer)
        self.snapshots.append(_state(self.model))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.strategy, name)


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _train(
    tmp: Path, model: TransferModel, strategy: Strategy, data: EncodedSet, cfg: RunConfig
) -> _Recorder:
    recorder = _Recorder(strategy, model)
    trainer = Trainer(
        model,
        torch.nn.CrossEntropyLoss(),
        strategy.param_groups(),
        cfg.train,
        tmp,
        hooks=recorder,
        penalty=strategy.penalty,
    )
    trainer.fit(data, None)
    recorder.snapshots.append(_state(model))
    return recorder


def _intended(model: TransferModel, strategy: Strategy, epoch: int) -> set[str]:
    """Names of the parameters the plan trains in ``epoch`` (and the optimizer holds)."""
    plan = {r["group"]: r["epochs"] for r in strategy.plan(EPOCHS)}
    optimized = {id(p) for g in strategy.param_groups() for p in g["params"]}
    group_of = {id(p): g.name for g in strategy.all_groups() for _, p in g.params}
    fixed = {id(p) for p in strategy._fixed}
    return {
        n
        for n, p in model.named_parameters()
        if id(p) in optimized and id(p) not in fixed and plan[group_of[id(p)]][epoch] is not None
    }


def _changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> set[str]:
    return {k for k in before if not torch.equal(before[k], after[k])}


def _check_exactly_intended(
    tmp: Path, cfg: RunConfig, backbone: Backbone, data: EncodedSet
) -> tuple[_Recorder, TransferModel]:
    model, strategy = _build(cfg, backbone)
    intended = [_intended(model, strategy, e) for e in range(EPOCHS)]
    params = {n for n, _ in model.named_parameters()}
    rec = _train(tmp, model, strategy, data, cfg)
    for e in range(EPOCHS):
        changed = _changed(rec.snapshots[e], rec.snapshots[e + 1]) & params
        assert intended[e], f"epoch {e}: nothing trains"
        assert changed == intended[e], (
            f"epoch {e}: changed but frozen {sorted(changed - intended[e])[:5]}, "
            f"trainable but unchanged {sorted(intended[e] - changed)[:5]}"
        )
    return rec, model


STAGED = {"head_epochs": 1, "unfreeze_every": 1}
# The CNN has no attention projections, so LoRA is pointed at its residual blocks' convolutions.
CNN_LORA = {"lora": {"target_modules": ["0.conv1", "0.conv2"]}}  # not the stem's conv1
# ResNet convolutions have no biases; with BatchNorm frozen BitFit has nothing to train and
# refuses (tested below), so the CNN checks cover every other strategy.
CNN_NAMES = [n for n in NAMES if n != "bitfit"]


@pytest.mark.parametrize("name", NAMES)
def test_exactly_the_intended_parameters_change(name: str, tmp_path: Path, bert_dir: Path) -> None:
    cfg = _cfg(name, strategy=STAGED)
    _check_exactly_intended(tmp_path, cfg, _bert(bert_dir), _text_data())


@pytest.mark.parametrize("name", CNN_NAMES)
def test_frozen_batchnorm_statistics_do_not_move(name: str, tmp_path: Path) -> None:
    cfg = _cfg(name, strategy={**STAGED, **CNN_LORA}, regularize={"batchnorm": "frozen"})
    rec, model = _check_exactly_intended(tmp_path, cfg, _cnn(), _image_data())
    stats = [k for k in rec.snapshots[0] if "running_" in k or "num_batches_tracked" in k]
    assert stats
    assert not _changed({k: rec.snapshots[0][k] for k in stats}, rec.snapshots[-1])
    bn_params = {
        f"encoder.model.{m}.{p}"
        for m, mod in model.encoder.model.named_modules()
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm)
        for p, _ in mod.named_parameters(recurse=False)
    }
    assert bn_params and not (_changed(rec.snapshots[0], rec.snapshots[-1]) & bn_params)


def test_bitfit_refuses_a_backbone_with_no_trainable_bias() -> None:
    cfg = _cfg("bitfit", regularize={"batchnorm": "frozen"})
    with pytest.raises(ConfigError, match="no bias parameters"):
        _build(cfg, _cnn())


def test_lora_refuses_a_family_without_default_targets() -> None:
    with pytest.raises(ConfigError, match="target_modules"):
        _build(_cfg("lora"), _cnn())


def test_batchnorm_statistics_move_when_they_train(tmp_path: Path) -> None:
    """The check above can fail: with batchnorm=train the statistics of a full run move."""
    model, strategy = _build(_cfg("full"), _cnn())
    rec = _train(tmp_path, model, strategy, _image_data(), _cfg("full"))
    assert any("running_mean" in k for k in _changed(rec.snapshots[0], rec.snapshots[-1]))


def _group_lrs(strategy: Strategy, optimizer: torch.optim.Optimizer) -> dict[str, set[float]]:
    group_of = {id(p): g.name for g in strategy.all_groups() for _, p in g.params}
    out: dict[str, set[float]] = {}
    for g in optimizer.param_groups:
        for p in g["params"]:
            out.setdefault(group_of[id(p)], set()).add(g["lr"])
    return out


_LR_CASES = [(n, k) for n in NAMES for k in ("bert-split", "bert-unsplit")]
_LR_CASES += [(n, "cnn-bn-frozen") for n in CNN_NAMES]


@pytest.mark.parametrize(("name", "kind"), _LR_CASES)
def test_effective_lr_is_the_declared_one(name: str, kind: str, bert_dir: Path) -> None:
    """Weight-decay splitting divides groups, frozen BatchNorm removes parameters, unfreezing
    toggles requires_grad: none of it may change a parameter's learning rate."""
    regularize = {
        "bert-split": {},
        "bert-unsplit": {"decay_norm_bias": True},
        "cnn-bn-frozen": {"batchnorm": "frozen"},
    }[kind]
    cnn = kind.startswith("cnn")
    cfg = _cfg(name, strategy={**STAGED, **(CNN_LORA if cnn else {})}, regularize=regularize)
    _, strategy = _build(cfg, _cnn() if cnn else _bert(bert_dir))
    declared = {r["group"]: r["lr"] for r in strategy.plan(EPOCHS) if r["lr"] > 0}
    optimizer = build_optimizer(strategy.param_groups(), cfg.train)
    for epoch in range(EPOCHS):
        strategy.on_epoch_start(epoch, optimizer)
        assert _group_lrs(strategy, optimizer) == {g: {lr} for g, lr in declared.items()}


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("layerwise_lr", {"layer_decay": 0.5}),
        ("gradual_unfreeze", {"layer_decay": 0.5}),
        ("two_stage", {"layer_decay": 0.5, "lr_factor": 0.1, "unfreeze_top": 2}),
    ],
)
def test_layer_decay_counts_every_group(name: str, options: dict[str, float]) -> None:
    """lr * decay ** distance from the top (head 0), with frozen groups and frozen BatchNorm
    parameters still counted: freezing must never shift the others' learning rates."""
    lr, decay = 1e-2, 0.5
    cfg = _cfg(name, strategy=options, regularize={"batchnorm": "frozen"})
    _, strategy = _build(cfg, _cnn())
    optimizer = build_optimizer(strategy.param_groups(), cfg.train)
    strategy.on_epoch_start(0, optimizer)  # only the head trains in epoch 0 of the staged ones
    names = ["stem", "layer1", "layer2", "layer3", "layer4"]
    factor = options.get("lr_factor", 1.0)
    expected = {g: lr * factor * decay ** (len(names) - i) for i, g in enumerate(names)}
    if name == "two_stage":
        expected = {g: expected[g] for g in ("layer3", "layer4")}
    expected["head"] = lr
    got = _group_lrs(strategy, optimizer)
    assert got.keys() == expected.keys()
    for group, lrs in got.items():
        assert len(lrs) == 1 and lrs.pop() == pytest.approx(expected[group]), group


def _step_log(trainer: Trainer, log: dict[int, tuple[frozenset[str], list[float]]]) -> None:
    original = trainer._step

    def step() -> None:
        names = frozenset(n for n, p in trainer.model.named_parameters() if p.requires_grad)
        log[trainer.state.global_step] = (names, [g["lr"] for g in trainer.optimizer.param_groups])
        original()

    trainer._step = step  # type: ignore[method-assign]


class _KilledError(Exception):
    pass


def test_resume_mid_gradual_unfreezing_matches(tmp_path: Path, bert_dir: Path) -> None:
    cfg = _cfg(
        "gradual_unfreeze",
        strategy={"unfreeze_every": 1, "layer_decay": 0.5},
        train={"epochs": 3, "schedule": "linear", "warmup_steps": 2},
    )

    def trainer(folder: Path) -> Trainer:
        model, strategy = _build(cfg, _bert(bert_dir))
        return Trainer(
            model,
            torch.nn.CrossEntropyLoss(),
            strategy.param_groups(),
            cfg.train,
            folder,
            hooks=strategy,
            penalty=strategy.penalty,
            checkpoint_every=1,
        )

    ref_log: dict[int, Any] = {}
    ref = trainer(tmp_path / "ref")
    _step_log(ref, ref_log)
    ref.fit(_text_data(), None)

    killed = trainer(tmp_path / "run")
    original = killed._step

    def die_mid_epoch() -> None:
        original()
        if killed.state.global_step == STEPS + 2:  # epoch 1 (one group unfrozen), 2nd step
            raise _KilledError

    killed._step = die_mid_epoch  # type: ignore[method-assign]
    with pytest.raises(_KilledError):
        killed.fit(_text_data(), None)

    resumed_log: dict[int, Any] = {}
    resumed = trainer(tmp_path / "run")
    _step_log(resumed, resumed_log)
    resumed.fit(_text_data(), None, resume=True)

    assert min(resumed_log) == STEPS + 1  # the checkpoint of step 4; step 5 is redone
    for step, (frozen_set, lrs) in resumed_log.items():
        assert frozen_set == ref_log[step][0], step
        assert lrs == pytest.approx(ref_log[step][1]), step
    assert len({ref_log[s][0] for s in ref_log}) == 3  # three different trainable sets
    ref_state, got = ref.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(ref_state[k], got[k]) for k in ref_state)
