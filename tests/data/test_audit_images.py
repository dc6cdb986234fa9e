"""Image audits: exact copies by bytes, near copies by perceptual hash, unreadable files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import domainfit.api as api


def _smooth_image(rng: np.random.Generator) -> Image.Image:
    small = rng.integers(0, 255, (6, 6, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((96, 96), Image.Resampling.BICUBIC)


def _folder(root: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(8):
            _smooth_image(rng).save(root / cls / f"{i}.png")
    return root


def test_image_duplicates_near_duplicates_and_corrupt(tmp_path: Path) -> None:
    root = _folder(tmp_path / "imgs", 0)
    (root / "a" / "copy.png").write_bytes((root / "a" / "0.png").read_bytes())
    Image.open(root / "b" / "1.png").resize((80, 80)).save(root / "b" / "small.jpg", quality=85)
    (root / "b" / "broken.png").write_bytes((root / "b" / "2.png").read_bytes()[:200])
    report = api.audit(source=str(root), overrides=["split.method=random"])
    d = "imgs"
    assert report.get(d, "exact_duplicates").count == 1
    assert report.get(d, "exact_duplicates").examples == ["a/0.png = a/copy.png"]
    assert report.get(d, "near_duplicates").count == 1
    assert report.get(d, "near_duplicates").examples == ["b/1.png = b/small.jpg"]
    corrupt = report.get(d, "corrupt_files")
    assert corrupt.count == 1 and corrupt.examples[0].startswith("b/broken.png")


def test_image_cross_domain_near_copy(tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", 1)
    tgt = _folder(tmp_path / "tgt", 2)
    Image.open(src / "a" / "3.png").resize((90, 90)).save(tgt / "a" / "leak.jpg", quality=90)
    report = api.audit(source=str(src), target=str(tgt), overrides=["split.method=random"])
    assert report.get("src→tgt", "leakage_source_target").count == 0
    item = report.get("src→tgt", "near_leakage_source_target")
    assert item.count == 1 and item.examples == ["target a/leak.jpg = source a/3.png"]
