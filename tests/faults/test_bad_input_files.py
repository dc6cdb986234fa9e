"""Issue 24, "Bad input": each broken file is one line naming the file and the fix (exit 2 from
the CLI), never an internal error or advice that does not apply."""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from safetensors.torch import save_file

from domainfit.api import audit
from domainfit.cli import main
from domainfit.config import DataSpec, ModelConfig
from domainfit.data.load import load_domain
from domainfit.errors import ConfigError, DataError
from domainfit.models.backbone import load_backbone
from domainfit.models.mlp_models import MLPEncoder
from domainfit.models.weights import load_state_dict


def _one_line(err: pytest.ExceptionInfo[Exception]) -> str:
    line = str(err.value)
    assert "\n" not in line
    return line


# --- .npz with an empty member ------------------------------------------------------------


def _npz_with_empty(path: Path, empty: str) -> Path:
    buf = io.BytesIO()
    np.save(buf, np.arange(12, dtype=np.float64).reshape(6, 2))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", buf.getvalue())
        archive.writestr(f"{empty}.npy", b"")  # what an interrupted savez leaves
    return path


def test_npz_with_an_empty_member_names_it(tmp_path: Path) -> None:
    path = _npz_with_empty(tmp_path / "cut.npz", "y")
    with pytest.raises(DataError) as err:
        load_domain(str(path))
    line = _one_line(err)
    assert f"array 'y' in {path} is empty or cut off" in line
    assert "write the archive again" in line


def test_npz_with_an_empty_member_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _npz_with_empty(tmp_path / "cut.npz", "y")
    assert main(["audit", str(path)]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and f"array 'y' in {path}" in err


# --- a CSV with one very large field ------------------------------------------------------


def test_csv_with_a_20_mb_field_is_read(tmp_path: Path) -> None:
    big = "word " * 4_000_000  # 20 MB in one quoted cell: valid CSV
    path = tmp_path / "long.csv"
    rows = "".join(f"short text {i},{i % 2}\n" for i in range(6))
    path.write_text(f'text,label\n"{big}",1\n{rows}', encoding="utf-8")
    ds = load_domain(str(path))
    assert len(ds) == 7
    assert len(ds.inputs[0]) == len(big)


def test_unclosed_quote_does_not_blame_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('text,label\n"never closed,1\nfine,0\n', encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_domain(str(path))
    line = _one_line(err)
    assert str(path) in line and "close the quote" in line
    assert "set data.source.delimiter" not in line


# --- duplicate column names ---------------------------------------------------------------


def test_duplicate_label_column_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("text,label,label\n" + "".join(f"t{i},{i % 2},0\n" for i in range(8)))
    with pytest.raises(DataError) as err:
        load_domain(str(path))
    line = _one_line(err)
    assert f"{path} has 2 columns named 'label'" in line and "rename the columns" in line
    assert main(["audit", str(path)]) == 2
    assert "columns named 'label'" in capsys.readouterr().err


def test_duplicate_named_text_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("body,body,y\n" + "".join(f"t{i},u{i},{i % 2}\n" for i in range(8)))
    with pytest.raises(DataError, match="reads as data.source.text"):
        load_domain(DataSpec(spec=str(path), text="body", label="y"))


def test_duplicate_feature_column_is_named_in_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("a,a,b,label\n" + "".join(f"{i},{2 * i},{i % 3},{i % 2}\n" for i in range(8)))
    with pytest.warns(UserWarning, match=r"repeated column names \('a' read as a, a\.1\)"):
        ds = load_domain(str(path))
    assert list(ds.inputs.columns) == ["a", "a.1", "b"]


# --- no recognisable label column ---------------------------------------------------------


def _no_label_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    rng = np.random.default_rng(0)
    csv = tmp_path / "nolabel.csv"
    csv.write_text("a,b,c\n" + "".join(f"{i},{i * 2 % 7},{i % 3}\n" for i in range(12)))
    npz = tmp_path / "nolabel.npz"
    np.savez(npz, X=rng.normal(size=(12, 3)), groups=np.arange(12))
    mat = tmp_path / "nolabel.mat"
    scipy.io.savemat(mat, {"fea": rng.normal(size=(12, 3)), "site": np.arange(12.0)})
    return {
        "csv": (csv, "no label column in {p}: looked for 'label'; columns are: a, b, c"),
        "npz": (npz, "no label variable in {p}: looked for 'Y' or 'y'"),
        "mat": (mat, "no label variable in {p}: looked for 'gnd' or 'labels'"),
    }


@pytest.mark.parametrize("kind", ["csv", "npz", "mat"])
def test_audit_says_labels_are_missing(tmp_path: Path, kind: str) -> None:
    path, expected = _no_label_files(tmp_path)[kind]
    report = audit(source=str(path))
    item = report.get(path.stem, "no_label_column")
    assert item.count == 1
    assert expected.format(p=path) in item.detail
    assert item.detail.endswith("set data.source.label to the label " + expected.split()[2])
    listed = {"csv": "columns are: a, b, c", "npz": "variables are: groups", "mat": "are: site"}
    assert listed[kind] in item.detail


def test_audit_cli_prints_it_and_fit_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one table row per finding, unwrapped
    path, expected = _no_label_files(tmp_path)["csv"]
    assert main(["audit", str(path)]) == 0  # the audit informs; fit is what refuses
    assert expected.format(p=path) in capsys.readouterr().out
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"data:\n  source: {path}\nmodel:\n  backbone: mlp\ntrack:\n  enabled: false\n")
    assert main(["fit", str(cfg), "--out", str(tmp_path / "run")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "error: the source domain nolabel has no labels: " + expected.format(p=path) in err
    assert err.endswith("set data.source.label to the label column")
    assert not (tmp_path / "run").exists()


# --- pickled .pt files --------------------------------------------------------------------


class _Thing:
    """Any class: unpickling it would import and run code."""


def test_pickled_weights_refused_in_a_whole_sentence_without_torch_warnings(
    tmp_path: Path,
) -> None:
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2), "extra": OrderedDict(thing=_Thing())}, path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(DataError) as err:
            load_state_dict(path)
    line = _one_line(err)
    assert line == (
        f"refused to load {path}: it pickles a Python object "
        f"({__name__}._Thing), which could run code when loaded; save the weights with "
        "safetensors (safetensors.torch.save_file(model.state_dict(), ...))"
    )
    assert not [w for w in seen if "torch" in str(w.filename)], [str(w.message) for w in seen]


def test_plain_pickle_as_weights_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    path.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(DataError) as err:
            load_state_dict(path)
    line = _one_line(err)
    assert "it is not a tensors-only torch file" in line and "\x1b" not in line
    assert not seen, [str(w.message) for w in seen]


def test_checkpoint_with_a_pickled_optimizer_says_why(tmp_path: Path) -> None:
    from domainfit.train.checkpoint_files import verify_checkpoint

    step = tmp_path / "step-10"
    step.mkdir()
    save_file({"w": torch.ones(2)}, str(step / "model.safetensors"))
    torch.save({"state": _Thing()}, step / "optimizer.pt")
    torch.save({"last_epoch": 1}, step / "scheduler.pt")
    torch.save({"torch": torch.ones(1)}, step / "rng.pt")
    (step / "state.json").write_text("{}")
    reason = verify_checkpoint(step)
    assert reason == (
        f"optimizer.pt cannot be read: it pickles a Python object ({__name__}._Thing), "
        "which could run code when loaded"
    )


# --- model.weights with an mlp backbone -----------------------------------------------------


def _saved_encoder(path: Path, prefix: str = "") -> MLPEncoder:
    torch.manual_seed(1)
    encoder = MLPEncoder(3, [4], 0.0)
    save_file({prefix + k: v for k, v in encoder.state_dict().items()}, str(path))
    return encoder


@pytest.mark.parametrize("prefix", ["", "encoder."])  # a bare state dict, or an mlp run's file
def test_mlp_backbone_loads_model_weights(tmp_path: Path, prefix: str) -> None:
    saved = _saved_encoder(tmp_path / "w.safetensors", prefix)
    if prefix:  # a run's file holds its head too, which the backbone leaves behind
        from safetensors.torch import load_file

        state = load_file(str(tmp_path / "w.safetensors"))
        save_file({**state, "head.weight": torch.zeros(2, 4)}, str(tmp_path / "w.safetensors"))
    cfg = ModelConfig(backbone="mlp:4", weights=str(tmp_path / "w.safetensors"))
    backbone = load_backbone(cfg, input_width=3)
    for name, value in saved.state_dict().items():
        assert torch.equal(backbone.inner.state_dict()[name], value), name
    assert backbone.weights_source == f"file {tmp_path / 'w.safetensors'}"


def test_mlp_weights_of_another_width_are_refused(tmp_path: Path) -> None:
    _saved_encoder(tmp_path / "w.safetensors")
    cfg = ModelConfig(backbone="mlp:4", weights=str(tmp_path / "w.safetensors"))
    with pytest.raises(ConfigError, match="do not fit the model"):
        load_backbone(cfg, input_width=5)  # the data has 5 features, the file was saved on 3
