"""``diagnose``: run every check that applies to a config (and a run) and rank the findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from domainfit.config import RunConfig
from domainfit.data.audit import audit_prepared
from domainfit.data.dataset import DomainDataset
from domainfit.data.pipeline import PreparedData, clean_and_split, load_domains
from domainfit.diagnose.advice import as_dict
from domainfit.diagnose.feature_findings import (
    domain_gap,
    label_shift,
    out_of_fold_probs,
    subsample,
)
from domainfit.diagnose.findings import Finding, ranked
from domainfit.models.backbone import Backbone

PRETRAINED_ON_IMAGENET = ("timm", "torchvision", "hf", "named")


@dataclass
class Diagnosis:
    findings: list[Finding]
    ran: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # check -> why it did not run

    @property
    def worst(self) -> str | None:
        return self.findings[0].severity if self.findings else None

    def codes(self, *severities: str) -> set[str]:
        keep = severities or ("high", "medium", "low")
        return {f.code for f in self.findings if f.severity in keep}

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "ran": self.ran,
            "skipped": self.skipped,
        }

    def write(self, path: Path) -> None:
        from domainfit.io_utils import write_json_atomic

        write_json_atomic(path, self.to_dict())


def run_diagnosis(
    cfg: RunConfig,
    base_dir: Path | None,
    *,
    run_dir: Path | None = None,
    given: dict[str, DomainDataset] | None = None,
    seed: int = 0,
    check_resume: bool = False,
) -> Diagnosis:
    from domainfit.diagnose.data_findings import data_findings

    prepared = clean_and_split(load_domains(cfg, base_dir, given), cfg)
    found: list[Finding] = data_findings(audit_prepared(prepared, cfg), prepared, cfg)
    ran = ["duplicates", "split_leakage", "missing_values", "class_imbalance", "too_few_samples"]
    skipped: dict[str, str] = {}
    if cfg.model is None:
        skipped["features"] = "no model section: label_noise, label_shift, domain_gap need one"
    else:
        bb = _pretrained(cfg)  # loaded once for the feature and the input checks
        found += _start_checks(cfg, bb)
        ran.append("random_init")
        f, r, s = _feature_checks(cfg, prepared, seed, bb)
        found, ran, skipped = found + f, ran + r, {**skipped, **s}
        f, r, s = _input_checks(cfg, prepared, bb)
        found, ran, skipped = found + f, ran + r, {**skipped, **s}
        if bb is not None and bb.modality == "text":
            from domainfit.diagnose.truncation_noise import noise_at_longer_inputs

            noise_at_longer_inputs(cfg, prepared, seed, bb, found)
    if run_dir is not None:
        f, r = _run_checks(cfg, prepared, run_dir)
        found, ran = found + f, ran + r
        if check_resume:
            from domainfit.diagnose.resume_check import check_resume as replay

            f, why = replay(run_dir)
            found += f
            if why is None:
                ran.append("nondeterministic_resume")
            else:
                skipped["nondeterministic_resume"] = why
        else:
            skipped["nondeterministic_resume"] = "replays a checkpoint interval: --check-resume"
        from domainfit.diagnose.adapt_collapse import explain_collapse
        from domainfit.report.runfolder import RunFolder

        run = RunFolder(run_dir)
        found = explain_collapse(found, run.config, run.history)
    from domainfit.diagnose.causes import link_causes

    return Diagnosis(ranked(link_causes(found)), ran, skipped)


def _start_checks(cfg: RunConfig, bb: Backbone | None) -> list[Finding]:
    from domainfit.models.backbone import random_start_fix
    from domainfit.models.start_weights import random_start

    if bb is None or not random_start(cfg.model, bb):
        return []
    assert cfg.model is not None
    return [
        Finding(
            "random_init",
            "high",
            f"{bb.spec} starts from random weights: nothing pretrained is transferred, and "
            "baselines, ranking and frozen-layer strategies assume it is",
            {
                "backbone": cfg.model.backbone,
                "model.weights": cfg.model.weights,
                "model.allow_download": cfg.model.allow_download,
                "strategy": cfg.strategy.name,
            },
            random_start_fix(bb.spec),
            score=1.0,
        )
    ]


def _pretrained(cfg: RunConfig) -> Backbone | None:
    """The config's pretrained backbone; None for a network built from the data (``mlp``)."""
    from domainfit.models.backbone import load_backbone
    from domainfit.models.specs import parse_spec

    assert cfg.model is not None
    return None if parse_spec(cfg.model.backbone).kind == "mlp" else load_backbone(cfg.model)


def _feature_checks(
    cfg: RunConfig, prepared: PreparedData, seed: int, bb: Backbone | None
) -> tuple[list[Finding], list[str], dict[str, str]]:
    if prepared.task == "regression":
        return [], [], {"features": "label_noise, label_shift: classification only"}
    from domainfit.diagnose.role_features import features

    feats = features(cfg, prepared, seed, bb)
    src = feats["source"]
    settings = as_dict(cfg)
    from domainfit.diagnose.label_noise import assess_label_noise

    keep = src.labelled
    ys = src.y[keep]
    # one set of out-of-fold probabilities for both checks that need them
    try:
        probs: np.ndarray | None = out_of_fold_probs(src.x[keep], ys, seed)
    except ValueError:  # a class with fewer than 2 samples: each check says so itself
        probs = None
    found, why = assess_label_noise(src, seed, settings, probs)
    ran, skipped = [], {}
    if why is None:
        ran.append("label_noise")
    else:
        skipped["label_noise"] = why
    tgt = feats.get("target")
    if tgt is None:
        skipped["label_shift"] = skipped["domain_gap"] = "no data.target"
        return found, ran, skipped
    n_classes = int(src.y.max()) + 1
    found += label_shift(src, tgt, n_classes, seed, settings, probs)
    a = cfg.adapt
    adapting = (
        None
        if not a.enabled
        else f"adapt.method: {a.method}" + (", self-training" if a.self_training.enabled else "")
    )
    found += domain_gap(src, tgt, seed, adapting, settings)
    return found, [*ran, "label_shift", "domain_gap"], skipped


def _input_checks(
    cfg: RunConfig, prepared: PreparedData, bb: Backbone | None
) -> tuple[list[Finding], list[str], dict[str, str]]:
    from domainfit.diagnose.input_findings import image_mismatch, text_mismatch
    from domainfit.models.backbone import is_pretrained
    from domainfit.models.image_convention import image_convention
    from domainfit.models.inputs import pixels
    from domainfit.models.specs import parse_spec

    assert cfg.model is not None
    spec = parse_spec(cfg.model.backbone)
    if bb is None:
        return [], [], {"input_mismatch": "a network built from the data has no pretraining"}
    found: list[Finding] = []
    if bb.modality == "text" and bb.tokenizer_path is not None:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(bb.tokenizer_path, local_files_only=True)
        for ds in prepared.clean.values():
            if ds.kind == "text":
                found += text_mismatch(ds, tok, cfg.model)
        return found, ["input_mismatch"], {}
    if bb.modality == "image" and spec.kind in PRETRAINED_ON_IMAGENET and is_pretrained(cfg.model):
        for ds in prepared.clean.values():
            if ds.meta.get("audio"):
                continue  # spectrograms are not photographs: no ImageNet statistics to match
            rows = subsample(np.arange(len(ds)), 512, 0)
            found += image_mismatch(ds, pixels(ds.subset(rows), image_convention(cfg.model)))
        return found, ["input_mismatch"], {}
    return [], [], {"input_mismatch": "no pretraining whose input statistics are known"}


def _run_checks(
    cfg: RunConfig, prepared: PreparedData, run_dir: Path
) -> tuple[list[Finding], list[str]]:
    from domainfit.diagnose.run_findings import bn_stats_drift, run_findings
    from domainfit.fit import build_model
    from domainfit.models.groups import layer_groups
    from domainfit.report.runfolder import RunFolder

    run = RunFolder(run_dir)
    ran = ["overfitting", "underfitting", "lr_too_high", "lr_too_low", "frozen_too_deep"]
    if (run_dir / "baselines.json").is_file():
        ran.append("negative_transfer")
    if cfg.model is None:
        return run_findings(run, None), ran
    parts = build_model(cfg, prepared)  # the pretrained start of the run, and its plan
    plan = parts.strategy.plan()
    found = run_findings(run, plan)
    ran.append("ineffective_lr")
    weights = run_dir / "model" / "model.safetensors"
    if weights.is_file():
        from safetensors.torch import load_file

        never = {r["group"] for r in plan if not r["trains"]}
        groups = layer_groups(parts.backbone.inner, parts.backbone.family)
        frozen = {name for g in groups if g.name in never for name, _ in g.params}
        found += bn_stats_drift(parts.model, parts.backbone.inner, frozen, load_file(weights))
        ran.append("bn_stats_drift")
    return found, ran


def load_run_config(run_dir: Path) -> dict[str, Any]:
    import yaml

    path = run_dir / "config.yaml"
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))) if path.is_file() else {}
