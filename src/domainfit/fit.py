"""One training run, wired from the layers: data -> backbone + head -> strategy -> trainer.

Everything that can fail on the user's input (config, data, backbone) is checked before the run
folder is created, so a bad config leaves nothing behind.

Launched with several processes (``torchrun``, ``accelerate launch``) every process builds the
same session and trains its share of each batch; rank 0 alone writes the run folder, tracks and
evaluates, and the others return the same metrics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from domainfit.adapt.adapter import Adapter
from domainfit.adapt.wiring import build_adapter, final_scores, select_metric, with_labelled_target
from domainfit.augment.pipeline import Augmenter
from domainfit.augment.wiring import attach_model_ops, augmenter_for, give_target, is_audio
from domainfit.config import RunConfig
from domainfit.config_io import dump_config
from domainfit.data.dataset import DomainDataset
from domainfit.data.feature_pipeline import FeaturePipeline
from domainfit.data.loaders import EncodedSet
from domainfit.data.pipeline import PreparedData, clean_and_split, load_domains
from domainfit.data.validate import check_trainable
from domainfit.errors import ConfigError
from domainfit.evaluate.run_files import data_summary, evaluate_run, split_datasets
from domainfit.io_utils import write_json_atomic, write_text_atomic
from domainfit.models.backbone import Backbone, load_backbone
from domainfit.models.feature_cache import cached_feature_sets
from domainfit.models.groups import layer_groups
from domainfit.models.heads import (
    HeadOnly,
    HeadTask,
    TransferModel,
    build_head,
    head_outputs,
    loss_for,
)
from domainfit.models.inputs import input_encoder
from domainfit.models.specs import parse_spec
from domainfit.models.start_weights import image_inputs_of, warn_random_start
from domainfit.predict_input import class_names
from domainfit.progress import say, silenced
from domainfit.run_dirs import claim_run_dir, released_on_failure
from domainfit.strategies import Strategy, strategy_class
from domainfit.track.mlflow_tracker import Tracker
from domainfit.train import distributed
from domainfit.train.checkpoint import keep_newest
from domainfit.train.run_files import save_weights, write_step_losses
from domainfit.train.trainer import FitResult, Trainer

WatchFn = Callable[[dict[str, float]], None]


@dataclass
class FitRun:
    dir: Path
    metrics: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    baselines: dict[str, Any] | None = None  # baselines.json, when the config names baselines


@dataclass
class Session:
    """Everything a run trains with, built and checked before anything is written.

    ``trained`` is the module the trainer updates: the whole ``model``, or the head alone when
    a strategy trains on cached backbone features (then ``sets`` hold those features).
    """

    cfg: RunConfig
    prepared: PreparedData
    backbone: Backbone
    model: TransferModel
    strategy: Strategy
    task: HeadTask
    classes: list[str]
    sets: dict[str, EncodedSet]
    trained: torch.nn.Module
    label_std: float = 1.0
    preprocessor: FeaturePipeline | None = None
    adapter: Adapter | None = None
    augmenter: Augmenter | None = None

    def loss(self) -> torch.nn.Module:
        return loss_for(self.task, self.label_std)


@dataclass
class ModelParts:
    """The model a run trains and the strategy that trains it, before any data is encoded."""

    backbone: Backbone
    model: TransferModel
    strategy: Strategy
    task: HeadTask
    classes: list[str]
    label_std: float
    preprocessor: FeaturePipeline | None


def build_model(cfg: RunConfig, prepared: PreparedData) -> ModelParts:
    if cfg.model is None:
        raise ConfigError("fit needs a model section", "set model.backbone, e.g. minilm")
    torch.manual_seed(cfg.seed)
    preprocessor = _fit_preprocessor(prepared, cfg) if _reads_features(cfg) else None
    width = None if preprocessor is None else preprocessor.width
    backbone = load_backbone(cfg.model, input_width=width)
    strategy_cls = strategy_class(cfg)
    strategy_cls.prepare(cfg, backbone)  # e.g. LoRA adapters go in before groups are read
    regression = prepared.task == "regression"
    classes = [] if regression else _classes(prepared)
    task: HeadTask = "regression" if regression else "binary" if len(classes) == 2 else "multiclass"
    head = build_head(
        backbone.out_features, head_outputs(task, len(classes)), cfg.model.head, rescale=regression
    )
    mean, std = _label_stats(prepared) if regression else (0.0, 1.0)
    if regression:
        head[-1].mean.fill_(mean)
        head[-1].std.fill_(std)
    model = TransferModel(backbone, head)
    groups = layer_groups(backbone.inner, backbone.family)
    strategy = strategy_cls(cfg, groups, head, backbone.inner)
    return ModelParts(backbone, model, strategy, task, classes, std, preprocessor)


def prepare_data(cfg: RunConfig, base_dir: Path | None) -> PreparedData:
    if cfg.model is None:
        raise ConfigError("fit needs a model section", "set model.backbone, e.g. minilm")
    say("reading and splitting the data")
    prepared = clean_and_split(load_domains(cfg, base_dir), cfg)
    check_trainable(prepared)
    sizes = {role: len(ds) for role, ds in prepared.clean.items()}
    say("data: " + ", ".join(f"{role} {n} rows" for role, n in sizes.items()))
    return prepared


def build_session(
    cfg: RunConfig, base_dir: Path | None, prepared: PreparedData | None = None
) -> Session:
    """``prepared`` (one fold of it, for k-fold runs) saves loading the data again."""
    prepared = prepared if prepared is not None else prepare_data(cfg, base_dir)
    say(f"loading backbone {cfg.model.backbone if cfg.model else ''}")
    parts = build_model(cfg, prepared)
    warn_random_start(cfg.model, parts.backbone)
    audio = is_audio(prepared.clean["source"])
    augmenter = augmenter_for(cfg, parts, audio)  # checked before anything expensive
    attach_model_ops(augmenter, parts)
    backbone, model, classes = parts.backbone, parts.model, parts.classes
    tokens = cfg.model.token_cache_dir
    token_cache = None if tokens is None else Path(tokens)
    encode, pad_id = input_encoder(backbone, cfg.model, parts.preprocessor, token_cache)
    sets = _encoded_sets(prepared, encode, classes, pad_id)
    give_target(augmenter, sets)
    trained: torch.nn.Module = model
    if parts.strategy.caches_features:
        # linear_probe: the encoder is fixed and in eval mode, so its features are computed
        # once (or read from the disk cache of an earlier run on the same model, data and
        # settings) and the head trains on them: the arithmetic of `frozen`, minus the encoder.
        ids = _split_ids(prepared)
        cache_dir = Path(cfg.strategy.cache_dir)
        spec = str(backbone.spec)
        bs = cfg.train.batch_size
        sets = cached_feature_sets(model.encoder, spec, cfg.model, sets, ids, cache_dir, bs)
        trained = HeadOnly(model.head)
    sets, adapter = _adaptation(cfg, prepared, sets, parts)
    return Session(
        cfg,
        prepared,
        backbone,
        model,
        parts.strategy,
        parts.task,
        classes,
        sets,
        trained,
        parts.label_std,
        parts.preprocessor,
        adapter,
        augmenter,
    )


def _adaptation(
    cfg: RunConfig, prepared: PreparedData, sets: dict[str, EncodedSet], parts: ModelParts
) -> tuple[dict[str, EncodedSet], Adapter | None]:
    """The labelled target few join the source's training set; the adapter draws on the rest."""
    if len(prepared.labelled_target):
        train_idx = prepared.folds["target"][0]["train"]
        where = {int(i): pos for pos, i in enumerate(train_idx)}
        positions = np.array([where[int(i)] for i in prepared.labelled_target])
        sets = dict(sets)
        sets["source.train"] = with_labelled_target(
            sets["source.train"], sets["target.train"], positions
        )
    adapter = build_adapter(
        cfg,
        sets,
        parts.backbone.out_features,
        parts.classes,
        caches=parts.strategy.caches_features,
    )
    return sets, adapter


def _reads_features(cfg: RunConfig) -> bool:
    assert cfg.model is not None
    return parse_spec(cfg.model.backbone).kind == "mlp"


def _fit_preprocessor(prepared: PreparedData, cfg: RunConfig) -> FeaturePipeline:
    """Fitted on the source's training split only, like every learnt preprocessing step."""
    src = prepared.clean["source"]
    if src.kind not in ("tabular", "features"):
        raise ConfigError(
            f"model.backbone=mlp reads tables or feature arrays, but {src.domain} holds {src.kind}",
            "use a text or image backbone for this data",
        )
    train = src.subset(prepared.folds["source"][0]["train"])
    return FeaturePipeline.fit(train, cfg, prepared.task or "classification")


def run_fit(
    cfg: RunConfig,
    base_dir: Path | None,
    run_dir: Path,
    *,
    resume: bool,
    watch: WatchFn | None = None,
    unique: bool = False,
) -> FitRun:
    """``unique``: ``run_dir`` is a default name, and a taken one moves on to ``name-2``..."""
    distributed.init()
    distributed.check_batch_size(cfg.train.batch_size)
    # rank 0 picks the folder (the default name holds the time, which may differ between
    # processes) and reserves a new run's at once: a clash shows now, not after minutes of loading
    if resume:
        run_dir = distributed.from_main(Path, run_dir)
    else:
        distributed.barrier()  # every process has checked that an --out folder is new (api.fit)
        run_dir = distributed.from_main(claim_run_dir, run_dir, unique)
    fresh = not resume and distributed.is_main()
    with silenced(not distributed.is_main()), released_on_failure(run_dir, fresh):
        if cfg.split.method == "kfold":
            from domainfit.fit_kfold import run_kfold

            run = run_kfold(cfg, base_dir, run_dir, resume=resume)
        else:
            start = time.perf_counter()
            s = build_session(cfg, base_dir)
            if not resume:
                start_run_dir(run_dir, cfg)
            run = train_session(s, run_dir, resume=resume, start=start, watch=watch)
    distributed.barrier()  # rank 0 has written the whole run folder
    return run


def start_run_dir(run_dir: Path, cfg: RunConfig) -> None:
    # run_fit has reserved a run's folder (a k-fold child's is made here); the barrier keeps
    # every process from writing before rank 0 has
    distributed.barrier()
    if distributed.is_main():
        run_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(run_dir / "config.yaml", dump_config(cfg))


def train_session(
    s: Session,
    run_dir: Path,
    *,
    resume: bool,
    start: float,
    name: str | None = None,
    watch: WatchFn | None = None,
) -> FitRun:
    """Train, evaluate and save into ``run_dir`` (which holds config.yaml already).

    ``watch`` (a sweep's pruner) sees every validation row; labelled target val data is then
    scored at each validation too, so it can prune on the metric it optimises."""
    cfg = s.cfg
    watched = {"target.val": s.sets["target.val"]} if watch and "target.val" in s.sets else {}
    trainer = Trainer(
        s.trained,
        s.loss(),
        s.strategy.param_groups(),
        cfg.train,
        run_dir,
        seed=cfg.seed,
        hooks=s.strategy,
        penalty=s.strategy.penalty if s.strategy.has_penalty else None,
        checkpoint_every=cfg.train.checkpoint_every_steps,
        adapter=s.adapter,
        augment=s.augmenter,
        select_metric=select_metric(cfg),
        task=s.task,
        watch=watched,
        on_evaluate=watch,
    )
    tracker = Tracker(cfg.track, run_dir, name or cfg.name)
    tracker.log_start(cfg.model_dump(mode="json"), _split_ids(s.prepared))
    try:
        result = trainer.fit(s.sets["source.train"], s.sets.get("source.val"), resume=resume)
    except BaseException as err:
        # a pruned sweep trial stopped on purpose: KILLED, not FAILED, in MLflow
        pruned = type(err).__name__ == "TrialPruned"
        tracker.finish({}, status="KILLED" if pruned else "FAILED")
        raise
    # the weights are equal in every process: rank 0 evaluates and writes, the rest wait
    device = trainer.accelerator.device
    metrics, seconds = distributed.from_main(
        _finish, s, run_dir, result, device, name or cfg.name, start
    )
    tracker.log_epochs(result.history)
    tracker.finish(metrics)
    if distributed.is_main():  # a finished run needs its best model, not every resume point
        keep_newest(run_dir / "checkpoints", cfg.train.keep_checkpoints)
    return FitRun(run_dir, metrics, result.history, seconds)


def _finish(
    s: Session, run_dir: Path, result: FitResult, device: torch.device, name: str, start: float
) -> tuple[dict[str, float], float]:
    """Evaluate the best (or last) model on every split and write the run's files."""
    cfg = s.cfg
    if result.best_model is not None:
        s.trained.load_state_dict(load_file(str(result.best_model)))
    datasets = split_datasets(s.prepared)
    metrics = evaluate_run(
        run_dir,
        s.trained,
        s.sets,
        datasets,
        s.task,
        s.classes,
        batch_size=cfg.train.batch_size,
        device=device,
    )
    if s.adapter is not None:
        metrics.update(final_scores(s.adapter, s.trained, s.task, cfg.train.batch_size, device))
    # predict rebuilds a plain model: strategies that changed it (adapters) fold it back first
    s.strategy.finalize(s.model)
    save_weights(s.model.cpu(), run_dir / "model" / "model.safetensors")
    if s.preprocessor is not None:
        s.preprocessor.save(run_dir / "model")
    seconds = time.perf_counter() - start
    width = None if s.preprocessor is None else s.preprocessor.width
    _write_outputs(run_dir, cfg, s, width, result, metrics)
    done = {"name": name, "seconds": round(seconds, 2)}
    if result.timed_out:  # fewer epochs than the config says: its reader should know
        done["stopped"] = "train.max_seconds"
    write_json_atomic(run_dir / "run.json", done)
    if cfg.track.report:
        write_report(run_dir)
    return metrics, seconds


def write_report(run_dir: Path, baselines: list[Path] | None = None) -> Path | None:
    """report.html for a finished run. The run is complete without it, so a failure here is a
    warning, not a failed run: ``domainfit report RUN`` can write it again."""
    import sys
    import traceback

    from domainfit.report import write_run_report

    try:
        return write_run_report(run_dir, baselines=baselines or [])
    except Exception as err:
        log = run_dir / "report-error.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"warning: report.html not written ({err}); traceback in {log}", file=sys.stderr)
        return None


def _split_ids(prepared: PreparedData) -> dict[str, list[str]]:
    out = {}
    for role, folds in prepared.folds.items():
        ds = prepared.clean[role]
        for part, idx in folds[0].items():
            out[f"{role}.{part}"] = [ds.ids[i] for i in idx]
    return out


def _classes(prepared: PreparedData) -> list[str]:
    src = prepared.clean["source"]
    train = prepared.folds["source"][0]["train"]
    return sorted({str(v) for v in src.labels[train]})  # type: ignore[index]


def _label_stats(prepared: PreparedData) -> tuple[float, float]:
    """Mean and std of the training labels (regression targets are learnt standardised)."""
    src = prepared.clean["source"]
    y = np.asarray(src.labels[prepared.folds["source"][0]["train"]], dtype=np.float64)  # type: ignore[index]
    std = float(y.std())
    return float(y.mean()), std if std > 0 else 1.0


def label_ids(ds: DomainDataset, classes: list[str]) -> np.ndarray | None:
    if ds.labels is None or ds.missing_labels().all():
        return None
    if not classes:  # regression
        return None if ds.missing_labels().any() else ds.labels.astype(np.float32)
    index = {c: i for i, c in enumerate(classes)}
    known = np.array([str(v) in index for v in ds.labels]) & ~ds.missing_labels()
    if not known.all():
        return None  # unlabelled or new classes: evaluated by later issues' metrics
    return np.array([index[str(v)] for v in ds.labels], dtype=np.int64)


def _encoded_sets(
    prepared: PreparedData, encode: Any, classes: list[str], pad_id: int
) -> dict[str, EncodedSet]:
    sets: dict[str, EncodedSet] = {}
    for role, ds in prepared.clean.items():
        fold = prepared.folds[role][0]
        for part in ("train", "val", "test"):
            if len(fold[part]) == 0:
                continue
            sub = ds.subset(fold[part])
            sets[f"{role}.{part}"] = EncodedSet(encode(sub), label_ids(sub, classes), pad_id)
    return sets


def _write_outputs(
    run_dir: Path,
    cfg: RunConfig,
    s: Session,
    input_width: int | None,
    result: FitResult,
    metrics: dict[str, float],
) -> None:
    jsonl = "".join(json.dumps(row) + "\n" for row in result.history)
    write_text_atomic(run_dir / "metrics.jsonl", jsonl)
    lrs = "".join(json.dumps(row) + "\n" for row in result.lr_trace)
    write_text_atomic(run_dir / "lr.jsonl", lrs)
    write_step_losses(run_dir, result.step_losses, result.steps_per_epoch)
    # 1/0 beside the scores: a number MLflow can log, and the report can flag
    metrics["backbone.pretrained"] = float(s.backbone.weights_source is not None)
    write_json_atomic(run_dir / "metrics.json", metrics)
    write_json_atomic(run_dir / "data.json", data_summary(s.prepared))
    trained_params = sum(r["params"] for r in s.strategy.plan() if r["trains"])
    assert cfg.model is not None
    write_json_atomic(
        run_dir / "model" / "model.json",
        {
            "classes": s.classes,
            "class_names": class_names(s.prepared.clean["source"], s.classes),
            "task": s.task,
            "backbone": cfg.model.backbone,
            "features": s.backbone.out_features,
            "head": cfg.model.head.model_dump(),
            "strategy": cfg.strategy.name,
            "input_width": input_width,
            "trained_params": trained_params,
            "weights_source": s.backbone.weights_source,
            "image_inputs": image_inputs_of(cfg.model, s.backbone),
        },
    )
