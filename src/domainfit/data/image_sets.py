"""Named image sets: PACS (four domains) and the MNIST-M test set, as kind "image" datasets.

Each set is a folder whose files are those SHA256SUMS lists under it (``NamedSet.files``), all
verified before reading. ``inputs`` are absolute file paths, as the image_folder source gives;
labels are int64 codes into ``meta["class_names"]``. Images are not decoded here: their SHA-256
pins them to the published files (every one of which decodes), so ``problems`` stays empty.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from domainfit.data.dataset import DomainDataset
from domainfit.data.image_files import is_image_file
from domainfit.data.named_set import RESTORE_FIX, SUMS_FILE, SUMS_FIX, NamedSet
from domainfit.errors import DataError

PACS_DOMAINS = ("art_painting", "cartoon", "photo", "sketch")
PACS_CLASSES = ["dog", "elephant", "giraffe", "guitar", "horse", "house", "person"]
DIGIT_CLASSES = [str(d) for d in range(10)]
MNIST_M_LABELS = "mnist-m-test/mnist_m_test_labels.txt"
MNIST_M_IMAGES = "mnist-m-test/mnist_m_test/"


def named_image_sets() -> list[NamedSet]:
    sets = [
        NamedSet(
            f"pacs:{d}",
            (f"pacs/{d}/",),
            d,
            "image",
            f"PACS {d.replace('_', ' ')}: 227x227 images, 7 classes",
            _read_pacs,
        )
        for d in PACS_DOMAINS
    ]
    sets.append(
        NamedSet(
            "mnist-m-test",
            (MNIST_M_LABELS, MNIST_M_IMAGES),
            "mnist_m",
            "image",
            "MNIST-M test set: 32x32 RGB digits on photo patches",
            _read_mnist_m,
        )
    )
    return sets


def _read_pacs(entry: NamedSet, paths: list[Path]) -> DomainDataset:
    """``pacs/<domain>/<class>/<file>``: the class is the parent folder, the id its path below
    the domain folder."""
    labels, ids = [], []
    for path in paths:
        cls = path.parent.name
        # SHA256SUMS decides which files belong to the set, so an odd entry is its fault.
        if cls not in PACS_CLASSES or path.parent.parent.name != entry.domain:
            raise DataError(
                f"{SUMS_FILE} lists {path} for named data set '{entry.name}', outside its class "
                f"folders ({', '.join(PACS_CLASSES)})",
                SUMS_FIX,
            )
        if not is_image_file(path):
            raise DataError(
                f"{SUMS_FILE} lists {path} for named data set '{entry.name}', not an image",
                SUMS_FIX,
            )
        labels.append(PACS_CLASSES.index(cls))
        ids.append(f"{cls}/{path.name}")
    folder = paths[0].parent.parent
    return DomainDataset(
        domain=entry.domain,
        kind="image",
        inputs=[str(p) for p in paths],
        labels=np.array(labels, dtype=np.int64),
        ids=ids,
        origin=str(folder),
        meta={"class_names": list(PACS_CLASSES)},
    )


def _read_mnist_m(entry: NamedSet, paths: list[Path]) -> DomainDataset:
    """Images in the label file's order (``00000000.png 7`` per line)."""
    labels_file, images = paths[0], paths[1:]
    by_name = {p.name: p for p in images}
    seen: dict[str, int] = {}  # file name -> the line that named it
    inputs: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(labels_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or fields[1] not in DIGIT_CLASSES:
            raise DataError(
                f"{labels_file} line {number} ({line.strip()!r}) is not "
                "'<image file> <digit 0..9>'",
                RESTORE_FIX,
            )
        name = fields[0]
        if name in seen:
            raise DataError(
                f"{labels_file} line {number} names {name} again (first on line {seen[name]})",
                RESTORE_FIX,
            )
        if name not in by_name:
            raise DataError(
                f"{labels_file} line {number} names {name}, which {SUMS_FILE} does not list "
                f"under {MNIST_M_IMAGES}",
                RESTORE_FIX,
            )
        seen[name] = number
        inputs.append(str(by_name[name]))
        labels.append(int(fields[1]))
    if len(inputs) != len(images):
        example = next((p.name for p in images if p.name not in seen), "?")
        raise DataError(
            f"{labels_file} has no line for {len(images) - len(inputs)} of the images under "
            f"{MNIST_M_IMAGES} (e.g. {example})",
            RESTORE_FIX,
        )
    return DomainDataset(
        domain=entry.domain,
        kind="image",
        inputs=inputs,
        labels=np.array(labels, dtype=np.int64),
        ids=[Path(p).name for p in inputs],
        origin=str(labels_file.parent),
        meta={"class_names": list(DIGIT_CLASSES)},
    )
