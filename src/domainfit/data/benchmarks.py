"""Named public data sets, read from the shared data folder (``data_root()``, ``$DOMAINFIT_DATA``).

Names (``list_named()``), each a DomainDataset whose ``domain`` is the readable name in brackets:

- ``office-caltech-surf:{amazon,caltech,dslr,webcam}`` (subset name): Office-Caltech10 SURF
  bag-of-words, features (n, 800) float64 counts; labels 0..9 = the file's 1..10 minus one, names
  in ``meta["class_names"]`` (back_pack ... projector, alphabetical as in the GFK release).
- ``amazon-reviews:{books,dvd,electronics,kitchen}`` (subset name): Blitzer et al. 2007 raw
  reviews, kind "text". The input is ``<review_text>`` alone (the usual choice in the domain
  adaptation literature; the title is kept in ``extras["title"]``). Labels: 1 = positive.review,
  0 = negative.review (negatives first), ``meta["class_names"] == ["negative", "positive"]``;
  ``extras["rating"]`` (float, NaN if absent), ``extras["unique_id"]``; ids ``positive.review#12``
  (file and 1-based position); ``subset`` keeps the extras aligned with the samples.
- ``amazon-reviews-bow:{books,dvd,electronics,kitchen}`` (subset name): the 5000-d unigram and
  bigram counts used by DANN, sparse CSR. ``amazon-reviews-bow:kitchen`` is the ``_train`` file
  (2000 reviews), ``amazon-reviews-bow:kitchen/test`` the ``_test`` file; both are read
  zero-based with exactly 5000 columns so that they line up. Labels -1/+1 become 0/1
  (negative/positive, ``meta["class_names"]``).
- ``mnist-test`` (mnist): the 10000 MNIST test digits, features (n, 784) uint8 (raw 0..255),
  ``meta["image_shape"] == (28, 28)``, labels 0..9.
- ``usps-test`` (usps): the 2007 LIBSVM USPS test digits, features (n, 256) float64 in [-1, 1],
  ``meta["image_shape"] == (16, 16)``; labels 0..9 = the file's 1..10 (digit + 1) minus one.
- ``mnist-usps-jda:{mnist,usps}`` (mnist, usps): the JDA release, 2000 MNIST (Xs/Ys) and 1800 USPS
  (Xt/Yt) digits from ``MNIST_vs_USPS.mat``, features (n, 256) float64 in [0, 1],
  ``meta["image_shape"] == (16, 16)``; labels 0..9 = the file's 1..10 (digit + 1) minus one, as
  for ``usps-test``.
- ``pacs:{art_painting,cartoon,photo,sketch}`` (subset name): PACS, kind "image", 227x227
  files (sketch PNG, the rest JPEG); ``inputs`` are absolute paths, ids ``dog/pic_001.jpg`` (path
  below the domain folder), sorted; labels 0..6 = the class folder in ``meta["class_names"]``
  (dog, elephant, giraffe, guitar, horse, house, person).
- ``mnist-m-test`` (mnist_m): the 9001 MNIST-M test digits, kind "image" (32x32 RGB PNG), in the
  order of ``mnist_m_test_labels.txt``, which gives the labels 0..9; ids are the file names.

Every digit set has ``meta["class_names"] == ["0", ..., "9"]`` and every set ``meta["named"]``.

Before a set is read, each of its files is checked against the data root's ``SHA256SUMS``; the
digest of a file is remembered per (file, size, modification time) for the life of the process.
The image sets name folders: their files are the ones ``SHA256SUMS`` lists under the folder, so a
stray file in it is never read (see ``NamedSet``).
A name is only a name when the text is not an existing path (``./mnist-test`` is always a path).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from domainfit.data.dataset import DomainDataset
from domainfit.data.idx import read_idx
from domainfit.data.image_sets import DIGIT_CLASSES, named_image_sets
from domainfit.data.named_set import RESTORE_FIX, ROOT_FIX, SUMS_FILE, SUMS_FIX, NamedSet
from domainfit.data.review_files import rating, read_review_file
from domainfit.data.sources.arrays import arrays_to_dataset
from domainfit.data.sources.matlab import read_variables
from domainfit.data.sources.svmlight import read_svmlight
from domainfit.errors import DataError
from domainfit.paths import data_root
from domainfit.progress import track
from domainfit.registry import did_you_mean

OFFICE_CLASSES = [
    "back_pack",
    "bike",
    "calculator",
    "headphones",
    "keyboard",
    "laptop_computer",
    "monitor",
    "mouse",
    "mug",
    "projector",
]
SENTIMENT_CLASSES = ["negative", "positive"]
REVIEW_DOMAINS = ("books", "dvd", "electronics", "kitchen")
BOW_FEATURES = 5000


# ---------------------------------------------------------------- names and lookup


def is_named(spec: str) -> bool:
    """``family:subset`` or a bare name of a known family, unless the text is an existing path."""
    text = spec.strip()
    if text.split(":", 1)[0].lower() not in FAMILIES:
        return False
    try:
        return not Path(text).expanduser().exists()
    except OSError:  # e.g. a name too long for the file system: not a path either
        return True


def list_named() -> list[str]:
    return sorted(NAMED)


def check_named() -> list[dict[str, str]]:
    """Each named set with ``status``: ok, or the reason it cannot be loaded (missing, corrupt)."""
    root = data_root()
    rows = []
    for name in list_named():
        entry = NAMED[name]
        try:
            verified_files(root, entry)
            status = "ok"
        except DataError as err:
            status = err.message
        rows.append(
            {"name": name, "kind": entry.kind, "description": entry.description, "status": status}
        )
    return rows


def load_named(spec: str) -> DomainDataset:
    """Verify the named set's files against SHA256SUMS, then read them."""
    entry = lookup(spec)
    root = data_root()
    ds = entry.read(entry, verified_files(root, entry))
    ds.meta["named"] = entry.name
    return ds


def lookup(spec: str) -> NamedSet:
    name = spec.strip().lower()
    if name in NAMED:
        return NAMED[name]
    family = name.split(":", 1)[0]
    options = [n for n in list_named() if n.split(":", 1)[0] == family] or list_named()
    raise DataError(
        f"unknown named data set '{spec.strip()}'{did_you_mean(name, options)}",
        f"use one of: {', '.join(options)}",
    )


# ---------------------------------------------------------------- checksums

# (device, inode, size, mtime_ns) -> sha256 hex digest; a changed file gets a new key. The inode
# names the file without resolving its path, which costs more than the stat on a 9000-file set.
_DIGESTS: dict[tuple[int, int, int, int], str] = {}
# The same key for SHA256SUMS -> its entries: an image set looks up thousands of files in it.
_SUMS: dict[tuple[int, int, int, int], dict[str, str]] = {}


def verified_files(root: Path, entry: NamedSet) -> list[Path]:
    """The set's files, folders expanded, each verified; a progress bar for thousands."""
    relatives = listed_files(root, entry)
    return [verified(root, rel, entry.name) for rel in track(relatives, f"verifying {entry.name}")]


def listed_files(root: Path, entry: NamedSet) -> list[str]:
    """``entry.files`` with each folder ("pacs/photo/") replaced by the files listed under it."""
    sums_path = root / SUMS_FILE
    out: list[str] = []
    for item in entry.files:
        if not item.endswith("/"):
            out.append(item)
            continue
        found = sorted(rel for rel in _checksums(sums_path, entry.name) if rel.startswith(item))
        if not found:
            raise DataError(
                f"{sums_path} lists no files under {item} "
                f"(needed by named data set '{entry.name}')",
                SUMS_FIX,
            )
        out += found
    return out


def verified(root: Path, relative: str, name: str) -> Path:
    """``root / relative`` once its SHA-256 matches SHA256SUMS; a DataError otherwise."""
    path = root / relative
    if not path.is_file():
        raise DataError(f"named data set '{name}' needs {path}, which is missing", ROOT_FIX)
    sums_path = root / SUMS_FILE
    expected = _checksums(sums_path, name).get(relative)
    if expected is None:
        raise DataError(
            f"{sums_path} has no checksum for {relative} (needed by named data set '{name}')",
            SUMS_FIX,
        )
    if sha256_of(path) != expected:
        raise DataError(
            f"{path} is corrupt: its SHA-256 checksum differs from the one in {sums_path}",
            RESTORE_FIX,
        )
    return path


def sha256_of(path: Path) -> str:
    key = _version(path)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def _version(path: Path) -> tuple[int, int, int, int]:
    stat = path.stat()
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _checksums(sums_path: Path, name: str) -> dict[str, str]:
    """``sha256sum`` output: ``<hex>  <path>`` (``*<path>`` in binary mode) per line."""
    try:
        key = _version(sums_path)
        if key in _SUMS:
            return _SUMS[key]
        lines = sums_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(
            f"named data set '{name}' needs the checksum list {sums_path}, which is missing",
            ROOT_FIX,
        ) from None
    sums: dict[str, str] = {}
    for line in lines:
        digest, _, relative = line.strip().partition(" ")
        if relative:
            sums[relative.strip().removeprefix("*")] = digest.lower()
    _SUMS[key] = sums
    return sums


# ---------------------------------------------------------------- readers


def _ids(path: Path, n: int) -> list[str]:
    return [f"{path.name}#{i}" for i in range(1, n + 1)]


def _codes(raw: object, offset: int, n_classes: int, origin: str) -> np.ndarray:
    """Labels ``offset .. offset + n_classes - 1`` as int64 codes ``0 .. n_classes - 1``."""
    values = np.asarray(raw, dtype=float).reshape(-1) - offset
    if not (np.all(values == np.round(values)) and values.min() >= 0 and values.max() < n_classes):
        raise DataError(
            f"labels in {origin} are not the whole numbers {offset}..{offset + n_classes - 1}",
            RESTORE_FIX,
        )
    return values.astype(np.int64)


def _finish(ds: DomainDataset, data_file: Path, meta: dict[str, object]) -> DomainDataset:
    ds.ids = _ids(data_file, len(ds))
    ds.meta.update(meta)
    return ds


def _read_office(entry: NamedSet, paths: list[Path]) -> DomainDataset:
    values = read_variables(paths[0], ["fts", "labels"])
    labels = _codes(values["labels"], 1, len(OFFICE_CLASSES), str(paths[0]))
    ds = arrays_to_dataset(values["fts"], labels, domain=entry.domain, origin=str(paths[0]))
    return _finish(ds, paths[0], {"class_names": OFFICE_CLASSES})


def _read_bow(entry: NamedSet, paths: list[Path]) -> DomainDataset:
    x, raw, _ = read_svmlight(paths[0], n_features=BOW_FEATURES, zero_based=True)
    if not set(np.unique(raw)) <= {-1.0, 1.0}:
        raise DataError(f"labels in {paths[0]} are not -1/+1", RESTORE_FIX)
    labels = (raw > 0).astype(np.int64)
    ds = arrays_to_dataset(x, labels, domain=entry.domain, origin=str(paths[0]))
    return _finish(ds, paths[0], {"class_names": SENTIMENT_CLASSES})


def _read_mnist(entry: NamedSet, paths: list[Path]) -> DomainDataset:
    images = read_idx(paths[0], ndim=3)
    labels = read_idx(paths[1], ndim=1).astype(np.int64)
    if len(images) != len(labels):
        raise DataError(
            f"{paths[0]} holds {len(images)} images but {paths[1]} {len(labels)} labels",
            RESTORE_FIX,
        )
    x = images.reshape(len(images), -1)
    origin = ", ".join(str(p) for p in paths)
    ds = arrays_to_dataset(x, labels, domain=entry.domain, origin=origin)
    meta = {"class_names": DIGIT_CLASSES, "image_shape": tuple(images.shape[1:])}
    return _finish(ds, paths[0], meta)


def _read_usps(entry: NamedSet, paths: list[Path]) -> DomainDataset:
    x, raw, _ = read_svmlight(paths[0], n_features=256, zero_based=False)
    labels = _codes(raw, 1, 10, str(paths[0]))
    ds = arrays_to_dataset(x.toarray(), labels, domain=entry.domain, origin=str(paths[0]))
    return _finish(ds, paths[0], {"class_names": DIGIT_CLASSES, "image_shape": (16, 16)})


def _read_jda(entry: NamedSet, paths: list[Path]) -> DomainDataset:
    x_name, y_name = ("Xs", "Ys") if entry.domain == "mnist" else ("Xt", "Yt")
    values = read_variables(paths[0], [x_name, y_name])
    labels = _codes(values[y_name], 1, 10, f"{paths[0]} ({y_name})")
    origin = f"{paths[0]} ({x_name}, {y_name})"
    ds = arrays_to_dataset(values[x_name], labels, domain=entry.domain, origin=origin)
    return _finish(ds, paths[0], {"class_names": DIGIT_CLASSES, "image_shape": (16, 16)})


def _read_reviews(entry: NamedSet, paths: list[Path]) -> DomainDataset:
    texts: list[str | None] = []
    labels: list[int] = []
    ids: list[str] = []
    reviews: list[dict[str, str]] = []
    for code, path in enumerate(paths):  # negative.review (0), then positive.review (1)
        found = read_review_file(path)
        if not found:
            raise DataError(f"{path} holds no <review> blocks", RESTORE_FIX)
        reviews += found
        texts += [r.get("review_text") or None for r in found]
        labels += [code] * len(found)
        ids += _ids(path, len(found))
    return DomainDataset(
        domain=entry.domain,
        kind="text",
        inputs=texts,
        labels=np.array(labels, dtype=np.int64),
        ids=ids,
        origin=", ".join(str(p) for p in paths),
        meta={"class_names": SENTIMENT_CLASSES},
        extras={
            "rating": np.array([rating(r.get("rating")) for r in reviews]),
            "unique_id": np.array([r.get("unique_id", "") for r in reviews], dtype=object),
            "title": np.array([r.get("title", "") for r in reviews], dtype=object),
        },
    )


# ---------------------------------------------------------------- the table


def _build() -> list[NamedSet]:
    sets = [
        NamedSet(
            f"office-caltech-surf:{d}",
            (f"office-caltech-surf/{d}_SURF_L10.mat",),
            d,
            "features",
            f"Office-Caltech10 {d}: SURF bag-of-words (800-d), 10 classes",
            _read_office,
        )
        for d in ("amazon", "caltech", "dslr", "webcam")
    ]
    for d in REVIEW_DOMAINS:
        folder = f"amazon-reviews-blitzer/{d}"
        sets.append(
            NamedSet(
                f"amazon-reviews:{d}",
                (f"{folder}/negative.review", f"{folder}/positive.review"),
                d,
                "text",
                f"Amazon {d} reviews (Blitzer 2007), review text, negative/positive",
                _read_reviews,
            )
        )
        for part, suffix in (("train", ""), ("test", "/test")):
            sets.append(
                NamedSet(
                    f"amazon-reviews-bow:{d}{suffix}",
                    (f"amazon-reviews-dann-svmlight/{d}_{part}.svmlight",),
                    d,
                    "features",
                    f"Amazon {d} reviews, DANN 5000-d bag of words, {part} file",
                    _read_bow,
                )
            )
    mnist = ("mnist-test/t10k-images-idx3-ubyte.gz", "mnist-test/t10k-labels-idx1-ubyte.gz")
    sets += [
        NamedSet("mnist-test", mnist, "mnist", "features", "MNIST test set", _read_mnist),
        NamedSet(
            "usps-test",
            ("usps-libsvm-test/usps.t.bz2",),
            "usps",
            "features",
            "USPS test set (LIBSVM)",
            _read_usps,
        ),
    ]
    sets += [
        NamedSet(
            f"mnist-usps-jda:{d}",
            ("mnist-usps-jda/MNIST_vs_USPS.mat",),
            d,
            "features",
            f"JDA release, {d} digits (16x16 = 256-d)",
            _read_jda,
        )
        for d in ("mnist", "usps")
    ]
    return sets + named_image_sets()


NAMED: dict[str, NamedSet] = {s.name: s for s in _build()}
FAMILIES: frozenset[str] = frozenset(name.split(":", 1)[0] for name in NAMED)
