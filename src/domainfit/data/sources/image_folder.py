"""Image folder source: one sub-folder per class, images anywhere inside it.

Layout::

    root/
      cat/001.png
      cat/outdoor/002.jpg      # nested folders are searched too; the label is still "cat"
      dog/003.jpeg

Class folders are the root's direct sub-folders; each is searched recursively (symlinked folders
are not followed). Files and folders whose names start with "." are skipped (.DS_Store, ._x.jpg
and .ipynb_checkpoints are never data). Files with other extensions, and files lying directly in
the root, are ignored and counted in ``meta["ignored_files"]``.

Every image is decoded once; unreadable ones stay in the dataset and are listed in ``problems``
so the audit can report them and cleaning can drop them. Verification runs on a few threads
(Pillow releases the GIL while decoding) with a progress bar from 500 files when stderr is a TTY.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset, LoadProblem
from domainfit.data.image_files import IMAGE_EXTENSIONS, is_image_file, verify_image
from domainfit.data.sources import SOURCES
from domainfit.errors import DataError
from domainfit.progress import track

_MAX_WORKERS = 8
_EXAMPLES = 5
_EXTENSIONS_TEXT = " ".join(sorted(IMAGE_EXTENSIONS))


@dataclass
class _Scan:
    """What a walk over the class folders found; paths are relative to the root, POSIX style."""

    images: list[tuple[str, str]] = field(default_factory=list)  # (relative path, class)
    ignored: list[str] = field(default_factory=list)
    root_images: int = 0


@SOURCES.register("image_folder")
def load(spec: DataSpec, path: Path) -> DomainDataset:
    _check_folder(path)
    classes = _class_folders(path)
    if not classes:
        raise _no_class_folders(path)
    scan = _scan(path, classes)
    if not scan.images:
        raise _no_images(path, classes, scan)
    scan.images.sort()
    root = path.absolute()
    files = [str(root / rel) for rel, _ in scan.images]
    problems = [
        LoadProblem(i, scan.images[i][0], reason)
        for i, reason in enumerate(_verify_all(files))
        if reason is not None
    ]
    found = sorted({cls for _, cls in scan.images})
    empty = [c for c in classes if c not in found]  # folders without images carry no samples
    return DomainDataset(
        domain=spec.domain or path.resolve().name,
        kind="image",
        inputs=files,
        labels=np.array([cls for _, cls in scan.images], dtype=object),
        ids=[rel for rel, _ in scan.images],
        origin=str(path),
        meta={
            "class_names": found,
            "empty_classes": empty,
            "ignored_files": len(scan.ignored),
            "ignored_examples": scan.ignored[:_EXAMPLES],
        },
        problems=problems,
    )


def _check_folder(path: Path) -> None:
    if not path.is_dir():
        raise DataError(
            f"{path} is not a folder; the image_folder format needs a folder with one "
            "sub-folder of images per class",
            "point data.source.spec at that folder, or set data.source.format to the file's format",
        )


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _class_folders(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not _hidden(p.name))


def _scan(root: Path, classes: list[str]) -> _Scan:
    scan = _Scan()
    for entry in sorted(root.iterdir()):
        if entry.is_file() and not _hidden(entry.name):
            scan.ignored.append(entry.name)
            scan.root_images += is_image_file(entry)
    for cls in classes:
        for dirpath, dirnames, filenames in os.walk(root / cls):
            dirnames[:] = sorted(d for d in dirnames if not _hidden(d))  # prune hidden folders
            for name in sorted(filenames):
                if _hidden(name):
                    continue
                rel = (Path(dirpath) / name).relative_to(root).as_posix()
                if is_image_file(Path(name)):
                    scan.images.append((rel, cls))
                else:
                    scan.ignored.append(rel)
    return scan


def _verify_all(files: list[str]) -> list[str | None]:
    """One reason (or None) per file, in order."""
    workers = min(_MAX_WORKERS, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(track(pool.map(verify_image, files), "verifying images", total=len(files)))


def _no_class_folders(root: Path) -> DataError:
    files = sorted(p.name for p in root.iterdir() if not _hidden(p.name))
    layout = f"put each class's images in a sub-folder named after the class ({root}/<class>/)"
    if not files:
        return DataError(f"image folder {root} is empty", layout)
    return DataError(
        f"image folder {root} has {_count(len(files), 'file')} (e.g. {', '.join(files[:3])}) "
        "but no class sub-folders",
        layout,
    )


def _no_images(root: Path, classes: list[str], scan: _Scan) -> DataError:
    shown = ", ".join(classes[:_EXAMPLES]) + (", ..." if len(classes) > _EXAMPLES else "")
    message = f"image folder {root} has class folders {shown} but no image files inside them"
    others = [f for f in scan.ignored if "/" in f]
    if others:
        message += f" ({_count(len(others), 'other file')}, e.g. {others[0]})"
    if scan.root_images:
        message += f"; {_count(scan.root_images, 'image')} directly in {root}, outside any class"
    return DataError(
        message, f"put {_EXTENSIONS_TEXT} files in the class folders, or check data.source.spec"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
