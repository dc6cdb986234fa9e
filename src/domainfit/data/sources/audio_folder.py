"""Audio folder source: one sub-folder of WAV files per class (the image folder's layout).

Every clip is read once (PCM or float WAV, any channel count: channels are averaged),
resampled to ``data.*.sample_rate`` and centred in a fixed window of ``audio_seconds`` (default:
the longest clip, at most 10 s): shorter clips are zero-padded, longer ones cropped at both ends.
The result is a features data set of waveforms, (N, samples) float32 in [-1, 1], marked as audio
in ``meta["audio"]``; image backbones read it as log-mel spectrograms. Unreadable files stay as
silent rows listed in ``problems``.
"""

from __future__ import annotations

import os
from math import gcd
from pathlib import Path

import numpy as np

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset, LoadProblem
from domainfit.data.sources import SOURCES
from domainfit.errors import DataError
from domainfit.progress import track

AUDIO_EXTENSIONS = frozenset({".wav"})
MAX_SECONDS = 10.0


def is_audio_folder(path: Path) -> bool:
    """Class sub-folders holding WAV files (checked on the first few entries only)."""
    for sub in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))[:5]:
        for _, _, files in os.walk(sub):
            if any(Path(f).suffix.lower() in AUDIO_EXTENSIONS for f in files[:50]):
                return True
    return False


def read_wav(path: str, sample_rate: int) -> np.ndarray:
    """Mono float32 in [-1, 1] at ``sample_rate``."""
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    rate, data = wavfile.read(path)
    x = np.asarray(data)
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        x = (x.astype(np.float32) - (info.max + info.min + 1) / 2) / ((info.max - info.min + 1) / 2)
    x = x.astype(np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if rate != sample_rate:
        g = gcd(int(rate), int(sample_rate))
        x = resample_poly(x, sample_rate // g, rate // g).astype(np.float32)
    return x


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        start = (len(x) - n) // 2
        return x[start : start + n]
    out = np.zeros(n, dtype=np.float32)
    start = (n - len(x)) // 2
    out[start : start + len(x)] = x
    return out


@SOURCES.register("audio_folder")
def load(spec: DataSpec, path: Path) -> DomainDataset:
    if not path.is_dir():
        raise DataError(
            f"{path} is not a folder; the audio_folder format needs one sub-folder of WAV "
            "files per class",
            "point data.source.spec at that folder",
        )
    files: list[tuple[str, str]] = []
    for cls in sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for dirpath, dirnames, names in os.walk(path / cls):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(names):
                if Path(name).suffix.lower() in AUDIO_EXTENSIONS and not name.startswith("."):
                    files.append(((Path(dirpath) / name).relative_to(path).as_posix(), cls))
    if not files:
        raise DataError(
            f"audio folder {path} has no .wav files in class sub-folders",
            f"put each class's WAV files in {path}/<class>/",
        )
    sr = spec.sample_rate
    clips: list[np.ndarray] = []
    problems = []
    for i, (rel, _) in enumerate(track(files, "reading audio", total=len(files))):
        try:
            clips.append(read_wav(str(path / rel), sr))
        except (OSError, ValueError) as err:
            problems.append(LoadProblem(i, rel, f"unreadable WAV ({err})"))
            clips.append(np.zeros(1, dtype=np.float32))
    seconds = spec.audio_seconds or min(MAX_SECONDS, max(len(c) for c in clips) / sr)
    n = max(1, round(seconds * sr))
    waves = np.stack([fit_length(c, n) for c in clips])
    return DomainDataset(
        domain=spec.domain or path.resolve().name,
        kind="features",
        inputs=waves,
        labels=np.array([cls for _, cls in files], dtype=object),
        ids=[rel for rel, _ in files],
        origin=str(path),
        meta={
            "audio": {"sample_rate": sr, "samples": n, "seconds": n / sr},
            "feature_names": [f"t{i}" for i in range(n)],
        },
        problems=problems,
    )
