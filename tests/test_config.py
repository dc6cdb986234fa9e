from __future__ import annotations

from pathlib import Path

import pytest

from domainfit.config_io import apply_override, dump_config, load_config
from domainfit.errors import ConfigError

BASE = {"data": {"source": "reviews.csv"}}


def test_minimal_config_and_string_shorthand() -> None:
    cfg = load_config(BASE)
    assert cfg.data.source.spec == "reviews.csv"
    assert cfg.split.train == 0.7 and cfg.split.method == "auto"


def test_overrides_parse_yaml_values() -> None:
    cfg = load_config(
        BASE, ["split.seed=7", "data.source.label=y", "split.val=0.1", "split.test=0.2"]
    )
    assert cfg.split.seed == 7 and cfg.data.source.label == "y"
    assert cfg.split.val == pytest.approx(0.1)


def test_unknown_top_level_key_suggests() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'splt'.*did you mean 'split'"):
        load_config({**BASE, "splt": {}})


def test_unknown_nested_key_lists_known() -> None:
    with pytest.raises(ConfigError, match=r"'lable' in data.source \(did you mean 'label'\?\)"):
        load_config(BASE, ["data.source.lable=y"])


def test_wrong_type_names_field_and_value() -> None:
    with pytest.raises(ConfigError, match=r"split.seed='abc'"):
        load_config(BASE, ["split.seed=abc"])


def test_bad_choice_lists_allowed() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(BASE, ["split.method=stratifed"])
    msg = str(info.value)
    assert "did you mean 'stratified'" in msg and "'kfold'" in msg


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["split.train=-0.1", "split.test=0.95"], "split.train=-0.1 must lie in [0, 1]"),
        (["split.train=0.5"], "must sum to 1"),
        (["split.val=1.5"], "split.val=1.5 must lie in [0, 1]"),
    ],
)
def test_bad_split_ratios(overrides: list[str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        load_config(BASE, overrides)


def test_yaml_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        load_config(empty)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_override_syntax_error() -> None:
    with pytest.raises(ConfigError, match="not of the form a.b=value"):
        apply_override({}, "split.seed")


def test_constant_imputation_needs_fill_value() -> None:
    with pytest.raises(ConfigError, match="fill_value"):
        load_config(BASE, ["clean.missing=constant"])


def test_dump_round_trips() -> None:
    cfg = load_config(BASE, ["split.seed=3"])
    import yaml

    again = load_config(yaml.safe_load(dump_config(cfg)))
    assert again == cfg
