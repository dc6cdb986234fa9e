"""Resolve a DataSpec (path or named data set) to a DomainDataset."""

from __future__ import annotations

from pathlib import Path

from domainfit.config import DataSpec
from domainfit.data import benchmarks
from domainfit.data.dataset import DomainDataset
from domainfit.data.sources import SOURCES
from domainfit.errors import DataError

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "txt",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".npz": "npz",
    ".svmlight": "svmlight",
    ".libsvm": "svmlight",
    ".svm": "svmlight",
    ".mat": "mat",
}


def load_domain(spec: DataSpec | str, base_dir: Path | None = None) -> DomainDataset:
    """Load one domain. Named data sets (``amazon-reviews:kitchen``) come from the data root."""
    if isinstance(spec, str):
        spec = DataSpec(spec=spec)
    if benchmarks.is_named(spec.spec):
        ds = benchmarks.load_named(spec.spec)
    else:
        path = resolve_path(spec.spec, base_dir)
        fmt = spec.format if spec.format != "auto" else detect_format(path)
        ds = SOURCES.get(fmt)(spec, path)
    if spec.domain:
        ds.domain = spec.domain
    return ds


def resolve_path(text: str, base_dir: Path | None) -> Path:
    """Relative paths: the working directory first, then the config file's folder."""
    path = Path(text).expanduser()
    candidates = [path]
    if not path.is_absolute() and base_dir is not None:
        candidates.append(base_dir / path)
    for c in candidates:
        if c.exists():
            return c
    tried = " or ".join(str(c) for c in candidates)
    raise DataError(f"data file {tried} not found", "check data.source.spec (path or named set)")


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
            return "hf_disk"
        from domainfit.data.sources.audio_folder import is_audio_folder

        return "audio_folder" if is_audio_folder(path) else "image_folder"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".bz2", ".gz"):
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    known = ", ".join(sorted(set(_EXTENSIONS)))
    raise DataError(
        f"cannot tell the format of {path} from its extension '{ext or '(none)'}'",
        f"set data.source.format (extensions known: {known})",
    )
