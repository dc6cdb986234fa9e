"""``augment-preview``: what the model will see. Images: a grid, each original above its
augmented version. Text: before/after pairs of decoded tokens. Mixing is applied too, so a
mixed pair shows as a blend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from domainfit.config import RunConfig
from domainfit.data.loaders import EncodedSet
from domainfit.errors import ConfigError


def write_preview(cfg: RunConfig, base_dir: Path | None, n: int, out: Path) -> list[Path]:
    from domainfit.augment.wiring import augmenter_for, is_audio
    from domainfit.fit import build_model, label_ids, prepare_data
    from domainfit.models.inputs import input_encoder

    prepared = prepare_data(cfg, base_dir)
    parts = build_model(cfg, prepared)
    aug = augmenter_for(cfg, parts, is_audio(prepared.clean["source"]))
    if aug is None:
        raise ConfigError("the config has no augment operations", "add an augment: list")
    assert cfg.model is not None
    encode, pad_id = input_encoder(parts.backbone, cfg.model, parts.preprocessor)
    src = prepared.clean["source"]
    train = prepared.folds["source"][0]["train"]
    rng = np.random.default_rng(cfg.seed)
    pick = np.sort(rng.choice(train, size=min(n, len(train)), replace=False))
    sub = src.subset(pick)
    data = EncodedSet(encode(sub), label_ids(sub, parts.classes), pad_id)
    if aug.needs_target:
        tgt = prepared.clean["target"]
        some = rng.choice(len(tgt), size=min(256, len(tgt)), replace=False)
        aug.set_target(encode(tgt.subset(np.sort(some)))["x"])
    before = data.batch(np.arange(len(data)))
    after = aug(before, epoch=0, index=0)
    out.mkdir(parents=True, exist_ok=True)
    if "input_ids" in before:
        return [_text(before, after, parts.backbone.tokenizer_path, out)]
    if "wave" in before:
        return _audio(before, after, out)
    if parts.backbone.modality == "image":
        return [_grid(before["x"].numpy(), after["x"].numpy(), aug, out)]
    raise ConfigError(
        "a preview shows images and text; this model reads feature vectors",
        "preview an image or text config",
    )


def _to_pixels(x: np.ndarray, aug: object) -> np.ndarray:
    mean = getattr(aug, "mean", None)
    if mean is None:  # spectrograms: standardised per clip, shown on their own range
        lo, hi = x.min(axis=(1, 2, 3), keepdims=True), x.max(axis=(1, 2, 3), keepdims=True)
        return ((x - lo) / np.maximum(hi - lo, 1e-6)).transpose(0, 2, 3, 1)
    std = aug.std  # type: ignore[attr-defined]
    return np.clip(x * std.numpy() + mean.numpy(), 0, 1).transpose(0, 2, 3, 1)


def _grid(before: np.ndarray, after: np.ndarray, aug: object, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = _to_pixels(before, aug), _to_pixels(after, aug)
    cols = min(8, len(a))
    rows = 2 * int(np.ceil(len(a) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(len(a)):
        r, c = 2 * (i // cols), i % cols
        axes[r][c].imshow(a[i])
        axes[r + 1][c].imshow(b[i])
        if c == 0:
            axes[r][c].set_title("original", fontsize=7, loc="left")
            axes[r + 1][c].set_title("augmented", fontsize=7, loc="left")
    fig.tight_layout()
    path = out / "augment_preview.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _text(before: dict, after: dict, tokenizer_path: str | None, out: Path) -> Path:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_path, local_files_only=True)
    lines = ["# Augmentation preview: before / after", ""]
    for i in range(before["input_ids"].shape[0]):
        a = before["input_ids"][i][before["attention_mask"][i].bool()].tolist()
        b = after["input_ids"][i][after["attention_mask"][i].bool()].tolist()
        lines += [f"{i + 1}. before: {tok.decode(a)}", f"   after:  {tok.decode(b)}", ""]
    path = out / "augment_preview.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _audio(before: dict, after: dict, out: Path) -> list[Path]:
    """Spectrogram grid plus each clip before and after as WAV files."""
    from scipy.io import wavfile

    from domainfit.models.audio_frontend import spectrogram_image

    rate, size = (int(v) for v in before["audio_meta"][0].tolist())
    specs = [spectrogram_image(b["wave"], rate, max(64, size)).numpy() for b in (before, after)]
    paths = [_grid(specs[0], specs[1], None, out)]
    for tag, b in (("before", before), ("after", after)):
        for i, clip in enumerate(b["wave"].numpy()):
            path = out / f"clip{i + 1:02d}_{tag}.wav"
            wavfile.write(path, rate, np.clip(clip, -1, 1).astype(np.float32))
            paths.append(path)
    return paths
