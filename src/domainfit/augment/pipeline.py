"""The augmenter: ``augment:`` operations on each training batch.

Every batch gets its own generator, seeded from (run seed, epoch, batch position): the same
run draws the same augmentations, and a resumed run continues exactly. Each operation applies
to a random share ``p`` of the batch's samples (mixing: to the whole batch with probability
``p``), in the listed order; mixing runs last. Image operations see [0, 1] pixels (the
ImageNet normalisation is undone around them).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from domainfit.augment import audio_ops, domain_ops, image_ops, mixing, text_ops
from domainfit.errors import ConfigError

IMAGE_OPS: dict[str, Callable[..., torch.Tensor]] = {
    "hflip": image_ops.hflip,
    "vflip": image_ops.vflip,
    "rotate": image_ops.rotate,
    "translate": image_ops.translate,
    "scale": image_ops.scale,
    "affine": image_ops.affine,
    "resized_crop": image_ops.resized_crop,
    "color_jitter": image_ops.color_jitter,
    "grayscale": image_ops.grayscale,
    "blur": image_ops.blur,
    "noise": image_ops.noise,
    "randaugment": image_ops.randaugment,
    "trivialaugment": image_ops.trivialaugment,
}
# these read the target's images (``Augmenter.target``): their parameter ``target`` is filled in
DOMAIN_OPS: dict[str, Callable[..., torch.Tensor]] = {
    "fda": domain_ops.fda,
    "match_stats": domain_ops.match_stats,
    "match_histogram": domain_ops.match_histogram,
}
# waveforms (N, T); the sample rate is passed as the third argument
AUDIO_OPS: dict[str, Callable[..., torch.Tensor]] = {
    "gain": audio_ops.gain,
    "audio_noise": audio_ops.noise,
    "time_shift": audio_ops.time_shift,
    "speed": audio_ops.speed,
    "time_stretch": audio_ops.time_stretch,
    "pitch_shift": audio_ops.pitch_shift,
}
TEXT_OPS: dict[str, Callable[..., list[int]]] = {
    "token_delete": text_ops.delete,
    "token_swap": text_ops.swap,
    "token_insert": text_ops.insert,
    "token_mask": text_ops.mask,
}
MIX_OPS: dict[str, Callable[..., tuple[torch.Tensor, torch.Tensor]]] = {
    "mixup": mixing.mixup,
    "cutmix": mixing.cutmix,
}
# inside the network (mixstyle) or in the loss (fgsm, pgd): op -> its parameters and defaults
MODEL_OPS: dict[str, dict[str, Any]] = {
    "mixstyle": {"alpha": 0.1, "layers": None},
    "fgsm": {"eps": 0.03},
    "pgd": {"eps": 0.03, "steps": 3, "step_size": None},
    "embed_mixup": {"alpha": 0.2},
    "embed_fgsm": {"eps": 0.1},  # times the embeddings' RMS (embedding_ops.py)
    "spec_mask": {"time": 0.1, "freq": 0.1},
}
MODALITY = {
    "mixstyle": "image",
    "fgsm": "image or features",
    "pgd": "image or features",
    "embed_mixup": "text",
    "embed_fgsm": "text",
    "spec_mask": "audio",
    **{k: "audio" for k in AUDIO_OPS},
    **{k: "image" for k in IMAGE_OPS},
    **{k: "image" for k in DOMAIN_OPS},
    **{k: "text" for k in TEXT_OPS},
    "mixup": "image or features or audio",
    "cutmix": "image",
}


def known_ops() -> list[str]:
    return [*IMAGE_OPS, *DOMAIN_OPS, *AUDIO_OPS, *TEXT_OPS, *MIX_OPS, *MODEL_OPS]


@dataclass
class Step:
    name: str
    p: float
    params: dict[str, Any]
    fn: Callable[..., Any]


@dataclass
class Augmenter:
    steps: list[Step]
    seed: int
    task: str
    n_classes: int
    pad_id: int = 0
    max_length: int = 512
    mean: torch.Tensor | None = None  # per-channel normalisation undone around image ops
    std: torch.Tensor | None = None
    mixes: list[Step] = field(default_factory=list)
    target: torch.Tensor | None = None  # [0, 1] target images for the domain operations
    model_ops: dict[str, dict[str, Any]] = field(default_factory=dict)  # mixstyle, fgsm, pgd
    embedding_hook: Any = None  # embed_mixup / embed_fgsm act through it

    @property
    def needs_target(self) -> bool:
        return any(s.name in DOMAIN_OPS for s in self.steps)

    def set_target(self, normalised: Any) -> None:
        x = torch.as_tensor(np.asarray(normalised, dtype=np.float32))
        self.target = x * self.std + self.mean if self.mean is not None else x

    def generator(self, epoch: int, index: int) -> torch.Generator:
        state = np.random.SeedSequence([self.seed, epoch, index]).generate_state(2)
        return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))

    def __call__(self, batch: dict[str, torch.Tensor], epoch: int, index: int) -> dict:
        gen = self.generator(epoch, index)
        out = dict(batch)
        n = next(iter(batch.values())).shape[0]
        if "input_ids" in out:
            for s in self.steps:
                chosen = torch.rand(n, generator=gen) < s.p
                out = text_ops.apply_rows(
                    out, gen, chosen, s.fn, s.params, self.pad_id, self.max_length
                )
        elif self.steps and "wave" in out:
            rate = int(out["audio_meta"][0, 0])
            wave = out["wave"].clone()
            for s in self.steps:
                chosen = torch.rand(n, generator=gen) < s.p
                if bool(chosen.any()):
                    wave[chosen] = s.fn(wave[chosen], gen, rate, **s.params).to(wave.dtype)
            out["wave"] = wave
        elif self.steps and "x" in out:
            chosen = [torch.rand(n, generator=gen) < s.p for s in self.steps]
            if any(bool(c.any()) for c in chosen):  # untouched batches stay bit-identical
                x = out["x"]
                raw = x * self.std + self.mean if self.mean is not None else x.clone()
                for s, c in zip(self.steps, chosen, strict=True):
                    if bool(c.any()):
                        extra = {"target": self.target} if s.name in DOMAIN_OPS else {}
                        raw[c] = s.fn(raw[c], gen, **extra, **s.params).to(raw.dtype)
                out["x"] = (raw - self.mean) / self.std if self.mean is not None else raw
        mix = self.model_ops.get("embed_mixup")
        # the hook exists once attached to a model (not in a preview, which has no forward)
        active = mix is not None and self.embedding_hook is not None and "labels" in out
        if active and float(torch.rand(1, generator=gen)) < mix["p"]:  # type: ignore[index]
            lam = mixing.draw_lambda(gen, float(mix["alpha"]))  # type: ignore[index]
            perm = torch.randperm(n, generator=gen)
            y = mixing.soft_labels(out["labels"], self.task, self.n_classes)
            out["labels"] = lam * y + (1 - lam) * y[perm]
            self.embedding_hook.mix = (perm, lam)
        for s in self.mixes:
            if float(torch.rand(1, generator=gen)) < s.p and "labels" in out:
                y = mixing.soft_labels(out["labels"], self.task, self.n_classes)
                key = "wave" if "wave" in out else "x"  # audio mixes waveforms
                out[key], out["labels"] = s.fn(out[key], y, gen, **s.params)
        return out


def build_augmenter(
    ops: list[dict[str, Any]],
    modality: str,
    *,
    seed: int,
    task: str,
    n_classes: int,
    pad_id: int = 0,
    max_length: int = 512,
    mask_id: int | None = None,
) -> Augmenter | None:
    """The configured operations, checked against the data's modality and their parameters;
    None when there are none."""
    if not ops:
        return None
    steps, mixes = [], []
    model_ops: dict[str, dict[str, Any]] = {}
    for raw in ops:
        spec = dict(raw)
        name, p = str(spec.pop("op")), float(spec.pop("p", 1.0))
        fn = {**IMAGE_OPS, **DOMAIN_OPS, **AUDIO_OPS, **TEXT_OPS, **MIX_OPS}.get(name)
        if fn is None and name in MODEL_OPS:
            _check_modality(name, modality)
            unknown = sorted(set(spec) - set(MODEL_OPS[name]))
            if unknown:
                raise ConfigError(
                    f"augment op {name!r} has no parameter {', '.join(unknown)}",
                    f"its parameters: {', '.join(MODEL_OPS[name])} (and p)",
                )
            model_ops[name] = {**MODEL_OPS[name], **spec, "p": p}
            continue
        if fn is None:
            raise ConfigError(
                f"augment op {name!r} is unknown", f"use one of {', '.join(known_ops())}"
            )
        _check_modality(name, modality)
        if name == "token_mask" and "mask_id" not in spec:
            spec["mask_id"] = mask_id if mask_id is not None else pad_id
        first = 3 if name in (*MIX_OPS, *DOMAIN_OPS, *AUDIO_OPS) else 2
        takes = list(inspect.signature(fn).parameters)[first:]
        unknown = sorted(set(spec) - set(takes))
        if unknown:
            raise ConfigError(
                f"augment op {name!r} has no parameter {', '.join(unknown)}",
                f"its parameters: {', '.join(takes) or 'none'} (and p)",
            )
        step = Step(name, p, spec, fn)
        (mixes if name in MIX_OPS else steps).append(step)
    if "fgsm" in model_ops and "pgd" in model_ops:
        raise ConfigError("augment has both fgsm and pgd", "keep one adversarial op")
    return Augmenter(
        steps, seed, task, n_classes, pad_id, max_length, mixes=mixes, model_ops=model_ops
    )


def _check_modality(name: str, modality: str) -> None:
    allowed = MODALITY[name]
    if modality not in allowed.split(" or "):
        raise ConfigError(
            f"augment op {name!r} works on {allowed} inputs, but the model reads {modality}",
            "remove it, or choose an operation for this kind of data",
        )
