"""Load weights without running anyone's code: safetensors, or ``torch.load(weights_only=True)``."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from domainfit.errors import DataError
from domainfit.models.torch_pickle import load_weights_only, refusal

_FIX = "save the weights with safetensors (safetensors.torch.save_file(model.state_dict(), ...))"


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A flat name -> tensor mapping from a .safetensors file or a tensors-only torch pickle.

    A torch pickle that holds arbitrary Python objects is refused: unpickling it could run code.
    A checkpoint dict with a ``state_dict``/``model`` entry is unwrapped.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"weights file {p} not found", "check model.weights")
    if p.suffix == ".safetensors":
        try:
            return load_file(str(p), device="cpu")
        except (SafetensorError, OSError, ValueError) as err:
            raise DataError(f"{p} is not a readable safetensors file ({err})", _FIX) from None
    try:
        obj = load_weights_only(p)
    except pickle.UnpicklingError as err:
        raise DataError(f"refused to load {p}: {refusal(err)}", _FIX) from None
    except (RuntimeError, EOFError, OSError) as err:
        raise DataError(f"{p} is not a readable PyTorch weights file ({err})", _FIX) from None
    return _unwrap(obj, p)


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            inner = obj.get(key)
            if isinstance(inner, dict):
                obj = inner
                break
        tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    raise DataError(f"{path} holds no tensors by name (a state_dict was expected)", _FIX)


def load_into(model: torch.nn.Module, path: str | Path, run_prefix: str = "") -> None:
    """Load a state dict into a backbone built without its classifier.

    Classifier weights in the file are expected extras; a missing backbone weight is an error.
    ``run_prefix``: how a run's weights name this backbone's when not ``encoder.model.`` (an
    ``mlp`` run's backbone is the encoder itself: ``encoder.``).
    """
    from domainfit.errors import ConfigError

    state = _backbone_part(load_state_dict(path), run_prefix or RUN_PREFIX)
    own = model.state_dict()
    unknown = [k for k in state if k not in own]
    usable = {k: v for k, v in state.items() if k in own}
    missing = [k for k in own if k not in usable]
    wrong = [k for k, v in usable.items() if tuple(v.shape) != tuple(own[k].shape)]
    if missing or wrong or len(unknown) > max(2, len(state) // 10):
        detail = (
            f"{len(missing)} missing (e.g. {missing[:2]}), {len(wrong)} of the wrong shape "
            f"(e.g. {wrong[:2]}), {len(unknown)} unknown (e.g. {unknown[:2]})"
        )
        raise ConfigError(
            f"weights in {path} do not fit the model: {detail}",
            "check that model.backbone names the architecture the file was saved from",
        )
    model.load_state_dict(usable, strict=False)


RUN_PREFIX = "encoder.model."  # how a domainfit run's model.safetensors names backbone weights


def _backbone_part(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """A domainfit run's weights (``RUN/model/model.safetensors``) as the bare backbone's: its
    ``encoder.model.`` prefix goes, its head stays behind. Continuing from a finished run (an
    MNIST model adapted to USPS) needs no conversion step."""
    if not any(k.startswith(prefix) for k in state):
        return state
    return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
