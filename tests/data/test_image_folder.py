from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from domainfit.config import DataSpec
from domainfit.data.image_files import (
    file_sha256,
    group_similar_hashes,
    hash_distance,
    perceptual_hash,
    verify_image,
)
from domainfit.data.load import load_domain
from domainfit.errors import DataError


def _image(path: Path, seed: int = 0, size: int = 16, fmt: str | None = None) -> Path:
    """A small noisy RGB image (noise makes every file distinct and non-trivial to decode)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format=fmt)
    return path


def _shapes(size: int, seed: int) -> Image.Image:
    """Coloured ellipses on a plain ground: detail at the scales a perceptual hash looks at."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size), tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        w, h = (int(v) for v in rng.integers(size // 6, size // 2, 2))
        draw.ellipse([x, y, x + w, y + h], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return img


def _load(path: Path, **kw: object) -> object:
    return load_domain(DataSpec(spec=str(path), **kw))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "pets"
    _image(root / "cat" / "a.png", 1)
    _image(root / "cat" / "B.JPG", 2)
    _image(root / "cat" / "indoor" / "c.jpeg", 3)  # nested: still a cat
    _image(root / "dog" / "d.bmp", 4)
    _image(root / "dog" / "e.png", 5)
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "README.md").write_text("about the pets")
    (root / "cat" / ".DS_Store").write_bytes(b"\x00\x01")
    (root / ".cache").mkdir()
    _image(root / ".cache" / "x.png", 6)  # hidden folder: not a class
    (root / "empty_class").mkdir()
    return root


def test_load_folder(folder: Path) -> None:
    ds = _load(folder)
    assert ds.kind == "image" and ds.domain == "pets" and len(ds) == 5
    assert ds.ids == ["cat/B.JPG", "cat/a.png", "cat/indoor/c.jpeg", "dog/d.bmp", "dog/e.png"]
    assert list(ds.labels) == ["cat", "cat", "cat", "dog", "dog"]
    assert ds.labels.dtype == object
    assert ds.inputs == [str(folder.absolute() / i) for i in ds.ids]
    assert ds.meta["class_names"] == ["cat", "dog"]
    assert ds.meta["empty_classes"] == ["empty_class"]
    assert ds.meta["ignored_files"] == 2  # notes.txt and README.md; hidden files not counted
    assert sorted(ds.meta["ignored_examples"]) == ["README.md", "dog/notes.txt"]
    assert ds.problems == []


def test_unreadable_files_are_reported_not_dropped(folder: Path) -> None:
    good = (folder / "cat" / "a.png").read_bytes()
    (folder / "cat" / "cut.png").write_bytes(good[:-8])  # CRC and IEND gone: Pillow still loads
    (folder / "dog" / "text.png").write_text("hello, I am text")
    (folder / "dog" / "zero.jpg").write_bytes(b"")
    ds = _load(folder, domain="mine")
    assert ds.domain == "mine" and len(ds) == 8
    found = {p.item: p.reason for p in ds.problems}
    assert found == {
        "cat/cut.png": "truncated PNG",
        "dog/text.png": "not an image",
        "dog/zero.jpg": "empty file",
    }
    for p in ds.problems:
        assert ds.ids[p.index] == p.item


@pytest.mark.parametrize("cut", [1, 4, 8, 12, 20, 100, 400])
def test_verify_truncated_png(tmp_path: Path, cut: int) -> None:
    data = _image(tmp_path / "a.png").read_bytes()
    assert verify_image(tmp_path / "a.png") is None
    (tmp_path / "b.png").write_bytes(data[:-cut])
    assert verify_image(tmp_path / "b.png") == "truncated PNG"


def test_verify_other_formats(tmp_path: Path) -> None:
    for ext, fmt in [("jpg", "JPEG"), ("bmp", "BMP")]:
        data = _image(tmp_path / f"a.{ext}", size=64).read_bytes()
        assert verify_image(tmp_path / f"a.{ext}") is None
        (tmp_path / f"b.{ext}").write_bytes(data[: len(data) - 30])
        assert verify_image(tmp_path / f"b.{ext}") == f"truncated {fmt}"
    bad_crc = bytearray(_image(tmp_path / "c.png").read_bytes())
    bad_crc[50] ^= 0xFF  # inside the first IDAT chunk's data
    (tmp_path / "d.png").write_bytes(bytes(bad_crc))
    assert verify_image(tmp_path / "d.png").startswith("corrupt PNG")
    assert verify_image(tmp_path / "missing.png").startswith("cannot read file")


def test_single_class_is_allowed(tmp_path: Path) -> None:
    _image(tmp_path / "only" / "x" / "1.png")
    ds = _load(tmp_path / "only")
    assert ds.meta["class_names"] == ["x"] and len(ds) == 1


def test_no_class_folders(tmp_path: Path) -> None:
    for i in range(3):
        _image(tmp_path / "flat" / f"{i}.png", i)
    with pytest.raises(DataError) as err:
        _load(tmp_path / "flat")
    assert "has 3 files (e.g. 0.png, 1.png, 2.png) but no class sub-folders" in err.value.message
    assert "sub-folder named after the class" in err.value.fix
    (tmp_path / "none").mkdir()
    with pytest.raises(DataError, match="is empty"):
        _load(tmp_path / "none")


def test_class_folders_without_images(tmp_path: Path) -> None:
    (tmp_path / "root" / "a").mkdir(parents=True)
    (tmp_path / "root" / "b").mkdir()
    (tmp_path / "root" / "b" / "notes.txt").write_text("x")
    _image(tmp_path / "root" / "stray.png")
    with pytest.raises(DataError) as err:
        _load(tmp_path / "root")
    line = err.value.line()
    assert "class folders a, b but no image files" in line
    assert "b/notes.txt" in line and "1 image directly in" in line
    assert "\n" not in line


def test_not_a_folder(tmp_path: Path) -> None:
    f = _image(tmp_path / "one.png")
    with pytest.raises(DataError, match="is not a folder") as err:
        _load(f, format="image_folder")
    assert str(f) in err.value.message


def test_file_sha256(tmp_path: Path) -> None:
    a = _image(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(a.read_bytes())
    assert (
        file_sha256(a)
        == hashlib.sha256(a.read_bytes()).hexdigest()
        == file_sha256(tmp_path / "b.png")
    )
    assert file_sha256(a) != file_sha256(_image(tmp_path / "c.png", seed=1))


def test_perceptual_hash_survives_resize_and_recompression(tmp_path: Path) -> None:
    """Observed: most copies hash equal, some differ in 2 of 64 bits; group them with a margin."""
    originals, copies = [], []
    for seed in range(10):
        img = _shapes(128, seed)
        img.save(tmp_path / f"{seed}.png")
        img.resize((115, 115), Image.Resampling.BILINEAR).save(tmp_path / f"{seed}.jpg", quality=85)
        originals.append(perceptual_hash(tmp_path / f"{seed}.png"))
        copies.append(perceptual_hash(tmp_path / f"{seed}.jpg"))
    distances = [hash_distance(a, b) for a, b in zip(originals, copies, strict=True)]
    assert max(distances) <= 4
    assert sum(d == 0 for d in distances) >= 7
    groups = group_similar_hashes(originals + copies, max_distance=4)
    assert groups[:10] == groups[10:]
    assert len(set(groups)) == 10  # distinct pictures stay apart


def test_perceptual_hash_of_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "t.png").write_text("text")
    assert perceptual_hash(tmp_path / "t.png") is None
    assert perceptual_hash(tmp_path / "missing.png") is None
    data = _image(tmp_path / "a.jpg", size=64).read_bytes()
    (tmp_path / "b.jpg").write_bytes(data[: len(data) // 2])
    assert perceptual_hash(tmp_path / "b.jpg") is None


def test_group_similar_hashes_chains_and_keeps_none() -> None:
    hashes = ["0000000000000000", None, "0000000000000003", "000000000000000f", "ffffffffffffffff"]
    assert group_similar_hashes(hashes, max_distance=2) == [
        "0000000000000000",
        None,
        "0000000000000000",  # 2 bits from the first
        "0000000000000000",  # 2 bits from the third: joined through it
        "ffffffffffffffff",
    ]
    assert group_similar_hashes(hashes, max_distance=0) == hashes
