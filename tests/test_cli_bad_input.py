"""Each bad input of the foundation issue: a one-line error, exit code 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from tests.test_cli import assert_user_error, run


def _config(tmp_path: Path, source: str, extra: str = "") -> Path:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"data:\n  source:\n{source}\n{extra}")
    return cfg


def _prepare_fails(capsys: pytest.CaptureFixture[str], cfg: Path, needle: str) -> None:
    out = cfg.parent / "out"
    code, _, err = run(capsys, "prepare", str(cfg), "--out", str(out))
    assert_user_error(code, err, needle)
    assert not out.exists()
    assert not [p for p in cfg.parent.iterdir() if p.name.startswith(".out")]


def test_single_class(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = tmp_path / "one.csv"
    p.write_text("text,label\n" + "".join(f"t{i},pos\n" for i in range(20)))
    _prepare_fails(capsys, _config(tmp_path, f"    spec: {p}"), "single class ('pos')")


def test_all_nan_feature_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = tmp_path / "nan.csv"
    p.write_text("a,b,label\n" + "".join(f"{i},,{i % 2}\n" for i in range(20)))
    _prepare_fails(capsys, _config(tmp_path, f"    spec: {p}"), "column 'b'")


def _images(root: Path) -> Path:
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((8, 8, 3), i * 20 + (cls == "dog") * 100, np.uint8)).save(
                root / cls / f"{i}.png"
            )
    return root


def test_file_that_is_not_an_image(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = _images(tmp_path / "imgs")
    (root / "cat" / "notes.png").write_text("this is not a picture")
    _prepare_fails(capsys, _config(tmp_path, f"    spec: {root}"), "clean.drop_corrupt=true")


def test_truncated_png(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = _images(tmp_path / "imgs")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
        root / "dog" / "big.png"
    )
    data = (root / "dog" / "big.png").read_bytes()
    (root / "dog" / "big.png").write_bytes(data[: len(data) // 2])
    _prepare_fails(capsys, _config(tmp_path, f"    spec: {root}"), "dog/big.png")


def test_corrupt_files_dropped_when_asked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _images(tmp_path / "imgs")
    (root / "cat" / "notes.png").write_text("this is not a picture")
    cfg = _config(tmp_path, f"    spec: {root}", "clean:\n  drop_corrupt: true\n")
    code, _, err = run(capsys, "prepare", str(cfg), "--out", str(tmp_path / "out"), "-q")
    assert code == 0, err
    assert (tmp_path / "out" / "splits.json").is_file()


def test_folder_without_class_subfolders(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "flat"
    root.mkdir()
    Image.new("RGB", (4, 4)).save(root / "a.png")
    code, _, err = run(capsys, "audit", str(root))
    assert_user_error(code, err, "no class sub-folders")


def test_mat_without_named_variables(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    p = tmp_path / "feats.mat"
    scipy.io.savemat(p, {"A": np.zeros((5, 3)), "b": np.arange(5)})
    cfg = _config(tmp_path, f"    spec: {p}\n    x: X\n    label: Y")
    code, _, err = run(capsys, "audit", str(cfg))
    assert_user_error(code, err, "'X'")
    assert "A" in err and "b" in err


def test_output_folder_exists(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    cfg = _config(tmp_path, "    spec: x.csv")
    code, _, err = run(capsys, "prepare", str(cfg), "--out", str(tmp_path / "out"))
    assert_user_error(code, err, "already exists")
