"""Named data sets: the real shared files, and a tmp data root for the failure cases."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from domainfit.config import DataSpec
from domainfit.data import benchmarks
from domainfit.data.benchmarks import check_named, is_named, list_named, load_named
from domainfit.data.image_sets import PACS_CLASSES
from domainfit.data.load import load_domain
from domainfit.data.review_files import parse_reviews
from domainfit.errors import DataError

OFFICE_COUNTS = {"amazon": 958, "caltech": 1123, "dslr": 157, "webcam": 295}
BOW_TEST_COUNTS = {"books": 4465, "dvd": 3586, "electronics": 5681, "kitchen": 5945}
DIGITS = list(range(10))
PACS_COUNTS = {"art_painting": 2048, "cartoon": 2344, "photo": 1670, "sketch": 3929}


@pytest.fixture(autouse=True)
def _real_root(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads the real shared data unless it points DOMAINFIT_DATA elsewhere."""
    monkeypatch.setenv("DOMAINFIT_DATA", str(shared_data))


# ---------------------------------------------------------------- the real data


@pytest.mark.parametrize(("subset", "n"), OFFICE_COUNTS.items())
def test_office_caltech(subset: str, n: int, shared_data: Path) -> None:
    ds = load_named(f"office-caltech-surf:{subset}")
    assert (ds.domain, ds.kind, ds.inputs.shape) == (subset, "features", (n, 800))
    assert ds.inputs.dtype == np.float64 and ds.inputs.min() == 0
    assert sorted(set(ds.labels)) == DIGITS  # the file's 1..10 minus one
    assert ds.meta["class_names"][0] == "back_pack" and len(ds.meta["class_names"]) == 10
    assert ds.origin == str(shared_data / f"office-caltech-surf/{subset}_SURF_L10.mat")
    assert ds.ids[0] == f"{subset}_SURF_L10.mat#1"


def test_office_class_order_matches_known_counts() -> None:
    # Amazon per-class counts of Office-Caltech10, alphabetical classes (back_pack 92, bike 82).
    counts = np.bincount(load_named("office-caltech-surf:amazon").labels)
    assert list(counts) == [92, 82, 94, 99, 100, 100, 99, 100, 94, 98]


@pytest.mark.parametrize("subset", benchmarks.REVIEW_DOMAINS)
def test_amazon_reviews_text(subset: str) -> None:
    ds = load_named(f"amazon-reviews:{subset}")
    assert (ds.domain, ds.kind, len(ds)) == (subset, "text", 2000)
    assert list(np.bincount(ds.labels)) == [1000, 1000]
    assert ds.meta["class_names"] == ["negative", "positive"]
    assert ds.ids[0] == "negative.review#1" and ds.ids[1000] == "positive.review#1"
    assert ds.ids[-1] == "positive.review#1000"
    rating = ds.extras["rating"]
    assert set(rating[ds.labels == 0]) <= {1.0, 2.0} and set(rating[ds.labels == 1]) <= {4.0, 5.0}
    assert len(set(ds.extras["unique_id"])) == 2000
    assert all(isinstance(t, str) and t for t in ds.inputs)
    assert not any("<review_text>" in t or "\x1a" in t for t in ds.inputs)


def test_amazon_review_content_and_lost_characters() -> None:
    ds = load_named("amazon-reviews:kitchen")
    first_positive = ds.inputs[1000]
    assert first_positive.startswith("For those of you unfamiliar with the")
    assert ds.extras["title"][1000] == "Perfectly fits the books' atmosphere"
    assert ds.extras["unique_id"][1000].startswith("B00068N1DO:")
    # books/negative.review has "na<SUB>ve": the control character becomes U+FFFD.
    books = load_named("amazon-reviews:books")
    assert any("na\ufffdve" in t for t in books.inputs[:1000])


@pytest.mark.parametrize("subset", benchmarks.REVIEW_DOMAINS)
def test_amazon_reviews_bow_train(subset: str) -> None:
    ds = load_named(f"amazon-reviews-bow:{subset}")
    assert sp.isspmatrix_csr(ds.inputs) and ds.inputs.shape == (2000, 5000)
    assert (ds.domain, ds.kind) == (subset, "features")
    assert list(np.bincount(ds.labels)) == [1000, 1000]
    assert ds.meta["class_names"] == ["negative", "positive"]
    assert ds.origin.endswith(f"{subset}_train.svmlight")


@pytest.mark.parametrize(("subset", "n"), BOW_TEST_COUNTS.items())
def test_amazon_reviews_bow_test(subset: str, n: int) -> None:
    ds = load_named(f"amazon-reviews-bow:{subset}/test")
    assert ds.inputs.shape == (n, 5000) and ds.domain == subset
    assert set(ds.labels) == {0, 1} and ds.origin.endswith(f"{subset}_test.svmlight")


def test_bow_columns_are_zero_based() -> None:
    # kitchen_train.svmlight starts "1 0:5 3:1 4:1 ...": index 0 is column 0, label +1 -> 1.
    ds = load_named("amazon-reviews-bow:kitchen")
    assert ds.labels[0] == 1 and ds.inputs[0, 0] == 5.0 and ds.inputs[0, 3] == 1.0


def test_mnist_test() -> None:
    ds = load_named("mnist-test")
    assert (ds.domain, ds.inputs.shape, ds.inputs.dtype) == ("mnist", (10000, 784), np.uint8)
    assert ds.meta["image_shape"] == (28, 28) and ds.inputs.max() == 255
    assert list(np.bincount(ds.labels)[:3]) == [980, 1135, 1032]  # the official test counts
    assert ds.labels[0] == 7  # the famous first test digit


def test_usps_test() -> None:
    ds = load_named("usps-test")
    assert (ds.domain, ds.inputs.shape, ds.meta["image_shape"]) == ("usps", (2007, 256), (16, 16))
    assert isinstance(ds.inputs, np.ndarray) and -1.0 <= ds.inputs.min() < ds.inputs.max() <= 1.0
    assert sorted(set(ds.labels)) == DIGITS
    # The file's first line is "10 1:-0.999999 ...": label 10 = digit 9; index 1 is column 0.
    assert ds.labels[0] == 9 and ds.inputs[0, 0] == pytest.approx(-0.999999)


@pytest.mark.parametrize(("subset", "n", "first"), [("mnist", 2000, 0), ("usps", 1800, 6)])
def test_mnist_usps_jda(subset: str, n: int, first: int) -> None:
    ds = load_named(f"mnist-usps-jda:{subset}")
    assert (ds.domain, ds.inputs.shape, ds.meta["image_shape"]) == (subset, (n, 256), (16, 16))
    assert sorted(set(ds.labels)) == DIGITS and ds.labels[0] == first
    assert ds.inputs.min() >= 0.0 and ds.inputs.max() <= 1.0
    # Sample 0 of MNIST is a 0: a ring, so the centre pixel of its 16x16 image is dark.
    if subset == "mnist":
        image = ds.inputs[0].reshape(16, 16)
        assert image[8, 8] < 0.5 and image[4:12, 4:6].max() > 0.5


@pytest.mark.parametrize(("subset", "n"), PACS_COUNTS.items())
def test_pacs(subset: str, n: int, shared_data: Path) -> None:
    ds = load_named(f"pacs:{subset}")
    assert (ds.domain, ds.kind, len(ds)) == (subset, "image", n)
    assert ds.meta["class_names"] == PACS_CLASSES == sorted(PACS_CLASSES)
    counts = np.bincount(ds.labels, minlength=7)
    assert ds.labels.dtype == np.int64 and len(counts) == 7 and counts.min() > 0
    assert counts.sum() == n
    if subset == "photo":  # the official PACS photo counts: dog 189, elephant 202, ...
        assert list(counts) == [189, 202, 182, 186, 199, 280, 432]
    folder = shared_data / "pacs" / subset
    assert ds.origin == str(folder) and ds.ids == sorted(ds.ids)
    for path, label, sample_id in zip(ds.inputs, ds.labels, ds.ids, strict=True):
        assert path == str(folder / sample_id) and Path(path).is_absolute()
        assert sample_id.split("/")[0] == PACS_CLASSES[label] == Path(path).parent.name


def test_mnist_m_test(shared_data: Path) -> None:
    ds = load_named("mnist-m-test")
    assert (ds.domain, ds.kind, len(ds)) == ("mnist_m", "image", 9001)
    assert ds.meta["class_names"] == [str(d) for d in DIGITS]
    assert sorted(set(ds.labels)) == DIGITS and ds.labels.dtype == np.int64
    lines = (shared_data / "mnist-m-test/mnist_m_test_labels.txt").read_text().splitlines()
    assert lines[:3] == ["00000000.png 7", "00000001.png 2", "00000002.png 1"]
    assert list(ds.labels[:3]) == [7, 2, 1] and ds.ids[:3] == [ln.split()[0] for ln in lines[:3]]
    assert ds.ids[-1] == lines[-1].split()[0] and ds.labels[-1] == int(lines[-1].split()[1])
    images = shared_data / "mnist-m-test" / "mnist_m_test"
    assert ds.inputs[0] == str(images / "00000000.png")
    assert all(Path(p).name == i for p, i in zip(ds.inputs, ds.ids, strict=True))


def test_check_named_lists_every_set_ok() -> None:
    rows = {r["name"]: r for r in check_named()}
    assert set(rows) == set(list_named())
    assert {n: r["status"] for n, r in rows.items() if r["status"] != "ok"} == {}
    assert rows["pacs:sketch"]["kind"] == rows["mnist-m-test"]["kind"] == "image"


def test_load_domain_routes_named_sets_and_overrides_domain() -> None:
    ds = load_domain(DataSpec(spec="office-caltech-surf:dslr", domain="D"))
    assert ds.domain == "D" and len(ds) == 157
    assert ds.meta["named"] == "office-caltech-surf:dslr"


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "spec",
    [
        "mnist-test",
        "usps-test",
        "amazon-reviews:kitchen",
        "amazon-reviews-bow:dvd/test",
        "amazon-reviews:toys",
        "Office-Caltech-SURF:amazon",
        "pacs:photo",
        "mnist-m-test",
    ],
)
def test_is_named(spec: str) -> None:
    assert is_named(spec)


@pytest.mark.parametrize("spec", ["C:\\x.csv", "data.csv", "./mnist-test", "amazon:kitchen", ""])
def test_is_not_named(spec: str) -> None:
    assert not is_named(spec)


def test_existing_paths_are_not_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mnist-test").mkdir()
    (tmp_path / "usps-test:b.csv").write_text("a\n1\n")
    assert not is_named("mnist-test") and not is_named("usps-test:b.csv")
    assert is_named("usps-test")


def test_list_named() -> None:
    names = list_named()
    assert len(names) == 25 and "amazon-reviews-bow:kitchen/test" in names
    assert {"pacs:art_painting", "pacs:sketch", "mnist-m-test"} <= set(names)
    assert names == sorted(names)


def test_unknown_subset_suggests_and_lists() -> None:
    with pytest.raises(DataError) as err:
        load_named("amazon-reviews:kitchens")
    assert "unknown named data set 'amazon-reviews:kitchens'" in err.value.message
    assert "did you mean 'amazon-reviews:kitchen'" in err.value.message
    assert "amazon-reviews:books" in err.value.fix and "mnist-test" not in err.value.fix
    with pytest.raises(DataError, match=r"use one of: .*amazon-reviews:books"):
        load_domain("amazon-reviews:toys")


def test_review_parser_tolerates_non_xml() -> None:
    text = (
        "<reviews>\n<review>\n<rating>\n4.0\n</rating>\n<helpful>\n\n</helpful>\n"
        "<review_text>\nTom & Jerry <3 this, x < y\n<b>bold</b>\n</review_text>\n</review>\n"
        "<review>\n<review_text>\nno rating here\n</review_text>\n</review>\n</reviews>\n"
    )
    reviews = parse_reviews(text)
    assert reviews[0] == {
        "rating": "4.0",
        "helpful": "",
        "review_text": "Tom & Jerry <3 this, x < y\n<b>bold</b>",
    }
    assert reviews[1] == {"review_text": "no rating here"}


# ---------------------------------------------------------------- verification


def _tmp_root(tmp_path: Path, shared: Path, *relative: str) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    shutil.copy(shared / "SHA256SUMS", root / "SHA256SUMS")
    for rel in relative:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared / rel, root / rel)
    return root


_DSLR = "office-caltech-surf/dslr_SURF_L10.mat"


def test_corrupt_file_is_refused(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tmp_root(tmp_path, shared_data, _DSLR)
    monkeypatch.setenv("DOMAINFIT_DATA", str(root))
    assert len(load_named("office-caltech-surf:dslr")) == 157
    # Same size, one byte changed, mtime moved on: the cached digest must not hide it.
    path = root / _DSLR
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(DataError) as err:
        load_named("office-caltech-surf:dslr")
    assert f"{path} is corrupt" in err.value.message and "checksum differs" in err.value.message


def test_digest_is_cached_per_file_version(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tmp_root(tmp_path, shared_data, _DSLR)
    monkeypatch.setenv("DOMAINFIT_DATA", str(root))
    calls = []
    real = benchmarks.hashlib.sha256
    monkeypatch.setattr(benchmarks.hashlib, "sha256", lambda: calls.append(1) or real())
    load_named("office-caltech-surf:dslr")
    load_named("office-caltech-surf:dslr")
    assert len(calls) == 1
    os.utime(root / _DSLR)  # a new mtime is a new version: hashed again
    load_named("office-caltech-surf:dslr")
    assert len(calls) == 2


def test_missing_file_names_the_expected_path(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tmp_root(tmp_path, shared_data)
    monkeypatch.setenv("DOMAINFIT_DATA", str(root))
    with pytest.raises(DataError) as err:
        load_domain("mnist-test")
    expected = root / "mnist-test" / "t10k-images-idx3-ubyte.gz"
    assert err.value.message == f"named data set 'mnist-test' needs {expected}, which is missing"
    assert "DOMAINFIT_DATA" in err.value.fix


def test_missing_or_incomplete_checksum_list(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tmp_root(tmp_path, shared_data, _DSLR)
    monkeypatch.setenv("DOMAINFIT_DATA", str(root))
    sums = root / "SHA256SUMS"
    sums.write_text(
        "".join(line + "\n" for line in sums.read_text().splitlines() if "dslr" not in line)
    )
    with pytest.raises(DataError, match=r"has no checksum for office-caltech-surf/dslr_SURF_L10"):
        load_named("office-caltech-surf:dslr")
    sums.unlink()
    with pytest.raises(DataError, match=r"needs the checksum list .*SHA256SUMS, which is missing"):
        load_named("office-caltech-surf:dslr")


def test_review_extras_follow_subsets() -> None:
    ds = load_named("amazon-reviews:dvd")
    sub = ds.subset([1999, 0])
    assert sub.extras["unique_id"][0] == ds.extras["unique_id"][1999]
    assert sub.extras["rating"][1] == ds.extras["rating"][0]


# ---------------------------------------------------------------- image sets on a tiny data root


def _sums_root(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A data root holding ``files`` and a SHA256SUMS listing exactly them."""
    root = tmp_path / "data"
    lines = []
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {rel}\n")
    (root / "SHA256SUMS").write_text("".join(lines))
    return root


def test_pacs_reads_listed_files_only_and_refuses_corrupt_ones(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dog = (shared_data / "pacs/photo/dog/056_0001.jpg").read_bytes()
    house = (shared_data / "pacs/photo/house/pic_010.jpg").read_bytes()
    root = _sums_root(tmp_path, {"pacs/photo/dog/a.jpg": dog, "pacs/photo/house/b.jpg": house})
    (root / "pacs/photo/dog/stray.jpg").write_bytes(dog)  # in the folder, not in SHA256SUMS
    (root / "pacs/photo/notes.txt").write_text("not an image")
    monkeypatch.setenv("DOMAINFIT_DATA", str(root))
    ds = load_named("pacs:photo")
    assert ds.ids == ["dog/a.jpg", "house/b.jpg"] and list(ds.labels) == [0, 5]
    with pytest.raises(DataError, match=r"lists no files under pacs/cartoon/"):
        load_named("pacs:cartoon")
    path = root / "pacs/photo/house/b.jpg"
    path.write_bytes(house[:-1] + bytes([house[-1] ^ 0xFF]))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(DataError, match=f"{path} is corrupt"):
        load_named("pacs:photo")


def _mnist_m_root(tmp_path: Path, shared_data: Path, labels: str) -> Path:
    images = shared_data / "mnist-m-test" / "mnist_m_test"
    files = {
        f"mnist-m-test/mnist_m_test/{name}": (images / name).read_bytes()
        for name in ("00000000.png", "00000001.png")
    }
    files["mnist-m-test/mnist_m_test_labels.txt"] = labels.encode()
    return _sums_root(tmp_path, files)


def test_mnist_m_follows_the_label_file(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _mnist_m_root(tmp_path, shared_data, "00000001.png 2\n00000000.png 7\n")
    monkeypatch.setenv("DOMAINFIT_DATA", str(root))
    ds = load_named("mnist-m-test")
    assert ds.ids == ["00000001.png", "00000000.png"] and list(ds.labels) == [2, 7]


@pytest.mark.parametrize(
    ("second_line", "needle"),
    [
        ("00000001.png 12", r"line 2 \('00000001.png 12'\) is not"),
        ("00000001.png", r"line 2 \('00000001.png'\) is not"),
        ("00000001.png two", r"line 2 .* is not '<image file> <digit 0..9>'"),
        ("00000000.png 2", r"line 2 names 00000000.png again \(first on line 1\)"),
        ("00000009.png 2", r"line 2 names 00000009.png, which SHA256SUMS does not list"),
        ("", r"has no line for 1 of the images .* 00000001.png"),  # a blank line is skipped
    ],
)
def test_mnist_m_bad_label_line_is_refused(
    second_line: str,
    needle: str,
    tmp_path: Path,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _mnist_m_root(tmp_path, shared_data, f"00000000.png 7\n{second_line}\n")
    monkeypatch.setenv("DOMAINFIT_DATA", str(root))
    with pytest.raises(DataError, match=needle):
        load_named("mnist-m-test")
