"""Read a RunConfig (YAML, dict or object), apply ``a.b=value`` overrides, explain errors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from domainfit.config import RunConfig
from domainfit.errors import ConfigError
from domainfit.registry import did_you_mean

ConfigLike = RunConfig | dict[str, Any] | str | Path


def load_config(config: ConfigLike, overrides: list[str] | None = None) -> RunConfig:
    """Validate a whole config before anything runs; every error names field, value, allowed."""
    origin = "config"
    if isinstance(config, RunConfig):
        raw: dict[str, Any] = config.model_dump(exclude_unset=True)
    elif isinstance(config, dict):
        raw = copy.deepcopy(config)  # overrides must not change the caller's dict
    else:
        path = Path(config)
        origin = str(path)
        raw = read_yaml(path)
    for item in overrides or []:
        apply_override(raw, item)
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{origin}: {explain(err, raw)}") from None


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {path} not found", "check the path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text", "save it as UTF-8") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"config file {path} is not valid YAML{where}", "fix the syntax"
        ) from None
    if data is None:
        raise ConfigError(f"config file {path} is empty", "it needs at least data.source")
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of sections, not a list/scalar")
    return data


def apply_override(raw: dict[str, Any], item: str) -> None:
    """``a.b.c=value``; the value is parsed as YAML so numbers, lists and booleans work."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set '{item}' is not of the form a.b=value", "e.g. --set split.seed=1")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    set_path(raw, key.strip(), parsed, origin="--set ")


def set_path(raw: dict[str, Any], key: str, value: Any, origin: str = "") -> None:
    """Set the dotted ``key`` in a raw config dict, creating sections on the way."""
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if isinstance(child, str) and part in ("source", "target"):
            child = {"spec": child}  # a domain given as a bare spec string
        if child is None:
            child = {}
        if not isinstance(child, dict):
            raise ConfigError(f"{origin}{key}: '{part}' is a value, not a section")
        node[part] = child
        node = child
    node[parts[-1]] = value


def explain(err: ValidationError, raw: dict[str, Any]) -> str:
    """The first validation error, as one line a user can act on."""
    e = err.errors()[0]
    loc = ".".join(str(p) for p in e["loc"] if not isinstance(p, int)) or "(top level)"
    kind = e["type"]
    value = e.get("input")
    if kind == "extra_forbidden":
        parent_loc, name = e["loc"][:-1], str(e["loc"][-1])
        known = _known_fields(parent_loc)
        where = ".".join(str(p) for p in parent_loc) or "top level"
        return (
            f"unknown key '{name}' in {where}{did_you_mean(name, known)}; known: {', '.join(known)}"
        )
    if kind == "missing":
        return f"{loc} is required"
    if kind == "literal_error":
        allowed = e.get("ctx", {}).get("expected", "")
        return f"{loc}={value!r} is not allowed{_hint(value, allowed)}; allowed: {allowed}"
    msg = e["msg"].removeprefix("Value error, ")
    if kind == "value_error" and isinstance(value, dict):
        return msg if msg.startswith(loc) else f"{loc}: {msg}"  # a whole-section check
    return f"{loc}={_short(value)}: {msg}"


def _hint(value: Any, allowed: str) -> str:
    options = [a.strip().strip("'") for a in allowed.replace(" or ", ", ").split(",")]
    return did_you_mean(str(value), options) if isinstance(value, str) else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _known_fields(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] | None = RunConfig
    for part in loc:
        if model is None or isinstance(part, int):
            break
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field else None
    return sorted(model.model_fields) if model else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found:
            return found
    return None


def dump_config(cfg: RunConfig) -> str:
    """The resolved config as YAML (what a run saves next to its results)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
