"""Audit and prepare: the base config every step starts from, with safe defaults, each one
logged with its reason. The data are loaded, cleaned and split here, before any folder exists,
so bad input fails at once with the usual one-line error and nothing written."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from domainfit.config import RunConfig
from domainfit.config_io import apply_override, load_config, read_yaml, set_path
from domainfit.data.benchmarks import is_named
from domainfit.data.dataset import DomainDataset
from domainfit.data.load import load_domain, resolve_path
from domainfit.data.pipeline import PreparedData, clean_and_split
from domainfit.data.split import resolve_method
from domainfit.data.validate import check_trainable
from domainfit.errors import ConfigError, DataError


@dataclass
class Decision:
    setting: str
    value: Any
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Setup:
    """The audited experiment: ``raw`` is the base config as a dict (decisions applied, the
    user's ``--set`` overrides not yet: they are applied last, to every step)."""

    raw: dict[str, Any]
    cfg: RunConfig
    base_dir: Path | None
    prepared: PreparedData
    overrides: list[str]
    decisions: list[Decision] = field(default_factory=list)

    @property
    def modality(self) -> str:
        return self.prepared.clean["source"].kind

    @property
    def has_target(self) -> bool:
        return "target" in self.prepared.clean

    @property
    def classification(self) -> bool:
        return self.prepared.task == "classification"

    def sizes(self) -> dict[str, int]:
        """Samples per ``role.part`` of the first fold (``source.train``: 1400, ...)."""
        return {
            f"{role}.{part}": len(idx)
            for role, folds in self.prepared.folds.items()
            for part, idx in folds[0].items()
        }


def audit_and_prepare(
    source: str | None,
    *,
    target: str | None = None,
    label: str | None = None,
    text: str | None = None,
    config: str | Path | None = None,
    overrides: list[str] | None = None,
) -> Setup:
    raw: dict[str, Any] = read_yaml(Path(config)) if config is not None else {}
    base_dir = Path(config).parent if config is not None else None
    for key in ("strategy", "adapt", "baselines", "sweep"):
        raw.pop(key, None)  # auto chooses these per step; the config gives data and model
    if source is not None:
        _set_spec(raw, "source", source)
    if target is not None:
        _set_spec(raw, "target", target)
    if "source" not in raw.get("data", {}):
        raise ConfigError("auto needs the source data", "pass SOURCE (a file or a named set)")
    for role in ("source", "target"):
        if isinstance(raw["data"].get(role), str):
            raw["data"][role] = {"spec": raw["data"][role]}
    for key, value in (("label", label), ("text", text)):
        if value is not None:
            for role in ("source", "target"):
                if role in raw["data"]:
                    set_path(raw, f"data.{role}.{key}", value)
    raw = absolute_specs(raw, base_dir)  # a missing file fails here; steps run from anywhere
    if raw["data"].get("target", {}).get("spec") == raw["data"]["source"]["spec"]:
        raise ConfigError(
            "the source and the target are the same data", "pass the target domain's own data"
        )
    user = copy.deepcopy(raw)
    for item in overrides or []:
        apply_override(user, item)  # what the user chose, to leave those settings alone
    decisions = _defaults(raw, user)
    cfg = _base_config(raw, overrides)
    if cfg.split.method == "kfold":
        raise ConfigError(
            "auto compares its runs and baselines on one holdout split, but split.method is kfold",
            "drop split.method (auto chooses) or use stratified, random, group or time",
        )
    if cfg.split.val == 0 and cfg.split.method != "predefined":
        raise ConfigError(
            "auto chooses among its steps on the source validation split, but split.val is 0",
            "leave split.val at its default (0.15) or set it above 0",
        )
    prepared = _load(cfg, base_dir, raw, decisions, target_label_given=label is not None)
    setup = Setup(raw, _base_config(raw, overrides), base_dir, prepared, list(overrides or []))
    setup.decisions = decisions + _after_loading(setup)
    return setup


def _base_config(raw: dict[str, Any], overrides: list[str] | None) -> RunConfig:
    """The base validated as a whole. Each step names its backbone; ``--set model.x=...``
    alone leaves a model section without one, which a stand-in fills for the check."""
    probe = copy.deepcopy(raw)
    for item in overrides or []:
        apply_override(probe, item)
    if isinstance(probe.get("model"), dict) and "backbone" not in probe["model"]:
        raw = {**raw, "model": {**raw.get("model", {}), "backbone": "mlp"}}
    return load_config(raw, overrides)


def _set_spec(raw: dict[str, Any], role: str, spec: str) -> None:
    data = raw.setdefault("data", {})
    current = data.get(role)
    data[role] = {**current, "spec": spec} if isinstance(current, dict) else {"spec": spec}


def _defaults(raw: dict[str, Any], user: dict[str, Any]) -> list[Decision]:
    """Safe cleaning defaults, where the config and ``--set`` left the setting alone."""
    out: list[Decision] = []
    has_target = "target" in raw.get("data", {})
    wanted = [
        (
            "clean.drop_duplicates",
            True,
            "a repeated row can land in train and test at once and inflate the test score",
        )
    ]
    if has_target:
        wanted.append(
            (
                "clean.drop_cross_domain",
                True,
                "a source row that repeats a target row would be trained on with its label "
                "and then scored on the target",
            )
        )
    for setting, value, why in wanted:
        section, key = setting.split(".")
        if key in user.get(section, {}):
            out.append(Decision(setting, user[section][key], "set in the config or by --set"))
            continue
        set_path(raw, setting, value)
        out.append(Decision(setting, value, why))
    return out


def _load(
    cfg: RunConfig,
    base_dir: Path | None,
    raw: dict[str, Any],
    decisions: list[Decision],
    *,
    target_label_given: bool,
) -> PreparedData:
    given: dict[str, DomainDataset] = {"source": load_domain(cfg.data.source, base_dir)}
    if cfg.data.target is not None:
        try:
            given["target"] = load_domain(cfg.data.target, base_dir)
        except DataError as err:
            # --label names the source's column; a target without it is unlabelled data
            if not (target_label_given and "not found" in err.message):
                raise
            raw["data"]["target"].pop("label", None)
            spec = cfg.data.target.model_copy(update={"label": None})
            given["target"] = load_domain(spec, base_dir)
            decisions.append(
                Decision(
                    "data.target.label",
                    None,
                    f"the target has no column {cfg.data.source.label!r}: unlabelled",
                )
            )
    if "target" in given and given["source"].domain == given["target"].domain:
        given["target"].domain = f"{given['target'].domain} (target)"
    prepared = clean_and_split(given, cfg)
    check_trainable(prepared)
    return prepared


def _after_loading(setup: Setup) -> list[Decision]:
    """What the data decided: the task, the split, the target protocol, the selection."""
    prepared, cfg = setup.prepared, setup.cfg
    src = prepared.clean["source"]
    out = [Decision("data.task", prepared.task, _task_why(src, prepared.task))]
    for action in prepared.cleaning:
        if action.action in ("drop_duplicates", "drop_cross_domain") and action.rows:
            out.append(
                Decision(
                    f"clean.{action.action} ({action.domain})",
                    f"{action.rows} rows dropped",
                    action.detail,
                )
            )
    method = resolve_method(cfg.split.method, src, prepared.task)
    sizes = setup.sizes()
    parts = "/".join(str(sizes.get(f"source.{p}", 0)) for p in ("train", "val", "test"))
    out.append(
        Decision("split.method", f"{cfg.split.method} -> {method}", _split_why(method, parts))
    )
    if setup.has_target:
        tgt = prepared.clean["target"]
        labelled = tgt.has_labels
        out.append(
            Decision(
                "adapt.protocol",
                cfg.adapt.protocol,
                "the target is split like the source: its training part is the unlabelled "
                "pool adaptation draws on, its test part is never trained on"
                if cfg.adapt.protocol == "inductive"
                else "all target samples are the unlabelled pool and the test set",
            )
        )
        out.append(
            Decision(
                "data.target_labels",
                cfg.data.target_labels,
                "target labels are never used to train or to choose"
                + ("; they only report the target test accuracy" if labelled else ""),
            )
        )
    return out


def _task_why(src: DomainDataset, task: str | None) -> str:
    n = len(set(map(str, src.labels))) if src.labels is not None else 0
    if task == "classification":
        return f"{n} label values in {src.domain}"
    return "numeric labels with many values"


def _split_why(method: str, parts: str) -> str:
    reasons = {
        "predefined": "the data carry their own train/val/test column",
        "group": "a group column is given: no group spans train and test",
        "time": "a time column is given: training precedes validation and test",
        "stratified": "classification with every sample labelled: class shares kept per part",
        "random": "no groups, times or full labels to stratify by",
    }
    return f"{reasons.get(method, method)} (train/val/test {parts})"


def absolute_specs(raw: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """``raw`` with file specs made absolute, so a config written elsewhere (winner.yaml)
    reads the same files; named sets stay as they are."""
    out = copy.deepcopy(raw)
    for role in ("source", "target"):
        spec = out.get("data", {}).get(role)
        if isinstance(spec, dict) and not is_named(spec["spec"]):
            spec["spec"] = str(resolve_path(spec["spec"], base_dir).resolve())
    return out
