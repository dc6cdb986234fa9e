"""The three real data sets the diagnosis benchmark plants faults in, as frozen features.

- ``text``: Amazon kitchen reviews (source) and books reviews (the shifted domain), 2,000 each,
  all-MiniLM-L6-v2 mean-pooled embeddings (384-d, 256 tokens) through ``domainfit.embed``.
- ``image``: PACS photo (source, 1,670) and art painting (shifted), frozen ImageNet
  EfficientNet-Lite0 features (1280-d), shared with the PACS benchmarks (``pacs_common``).
- ``features``: Office-Caltech10 SURF histograms (800-d), amazon (source, 958) and webcam
  (shifted, 295), as the classic domain adaptation papers use them.

Embeddings are computed once and kept as .npz under runs/bench/diagnosis/ (git-ignored).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORK = Path("runs/bench/diagnosis")
SETS = ("text", "image", "features")


@dataclass
class RealSet:
    name: str
    kind: str  # what a user would call the data: text, image, features
    source: str
    target: str
    xs: np.ndarray
    ys: np.ndarray
    xt: np.ndarray
    yt: np.ndarray
    removed: int = 0  # exact repeats dropped before any fault is planted


def _named(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    import domainfit

    ds = domainfit.load_data(name)
    classes = sorted({str(v) for v in ds.labels})
    index = {c: i for i, c in enumerate(classes)}
    return np.asarray(ds.inputs, dtype=np.float64), np.array([index[str(v)] for v in ds.labels]), []


def _text(domain: str) -> tuple[np.ndarray, np.ndarray]:
    path = WORK / f"minilm-{domain}.npz"
    if not path.is_file():
        import domainfit

        start = time.perf_counter()
        ds = domainfit.load_data(f"amazon-reviews:{domain}")
        x = domainfit.embed(ds, "minilm", max_length=256, batch_size=64)
        classes = sorted({str(v) for v in ds.labels})
        y = np.array([classes.index(str(v)) for v in ds.labels], dtype=np.int64)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, X=x.astype(np.float32), y=y)
        tmp.replace(path)
        print(f"embedded {domain}: {x.shape} in {time.perf_counter() - start:.0f} s", flush=True)
    with np.load(path) as f:
        return f["X"].astype(np.float64), f["y"]


def load(name: str) -> RealSet:
    """The set with exact repeats removed (within each domain, and target rows equal to a source
    row), so a clean twin has no duplicates or leakage but the planted ones."""
    real = _load(name)
    keep_s = _first_of_each(real.xs)
    xs, ys = real.xs[keep_s], real.ys[keep_s]
    seen = {r.tobytes() for r in xs}
    keep_t = [i for i in _first_of_each(real.xt) if real.xt[i].tobytes() not in seen]
    real.removed = (len(real.xs) - len(xs)) + (len(real.xt) - len(keep_t))
    real.xs, real.ys, real.xt, real.yt = xs, ys, real.xt[keep_t], real.yt[keep_t]
    return real


def _first_of_each(x: np.ndarray) -> np.ndarray:
    first: dict[bytes, int] = {}
    for i, row in enumerate(x):
        first.setdefault(row.tobytes(), i)
    return np.array(sorted(first.values()), dtype=np.int64)


def _load(name: str) -> RealSet:
    if name == "text":
        xs, ys = _text("kitchen")
        xt, yt = _text("books")
        return RealSet(name, "text", "kitchen", "books", xs, ys, xt, yt)
    if name == "image":
        from pacs_common import features

        feats = features(["photo", "art_painting"])
        p, a = feats["photo"], feats["art_painting"]
        return RealSet(
            name,
            "image",
            "photo",
            "art_painting",
            p.x.astype(np.float64),
            p.y,
            a.x.astype(np.float64),
            a.y,
        )
    if name == "features":
        xs, ys, _ = _named("office-caltech-surf:amazon")
        xt, yt, _ = _named("office-caltech-surf:webcam")
        return RealSet(name, "features", "amazon", "webcam", xs, ys, xt, yt)
    raise ValueError(f"unknown set {name!r}: one of {', '.join(SETS)}")


if __name__ == "__main__":
    for s in SETS:
        r = load(s)
        print(s, r.xs.shape, np.bincount(r.ys), r.xt.shape)
