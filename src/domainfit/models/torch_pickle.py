"""``torch.load(weights_only=True)`` without torch's noise, and its refusals in a few words.

Torch's refusal is a multi-line essay (with terminal colour codes) whose useful part, the class
it would not unpickle, comes last; cutting it to its first line left half a sentence. It also
warns (pickle protocol, ``FutureWarning``s) just before refusing, which users read as the error.
"""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import torch

_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")
_DETAIL = re.compile(r"WeightsUnpickler error:\s*(\S[^\n]*)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def load_weights_only(path: str | Path) -> Any:
    """Tensors and plain containers from a torch file; never runs code from it.

    Raises ``pickle.UnpicklingError`` for anything else (see ``refusal``)."""
    with warnings.catch_warnings():
        # torch warns about the file's pickle protocol before it refuses or reads it: the
        # outcome (a tensor dict, or our one-line refusal) is all the user needs
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return torch.load(path, map_location="cpu", weights_only=True)


def refusal(err: pickle.UnpicklingError) -> str:
    """What made the weights-only reader stop, as a complete clause."""
    text = _ANSI.sub("", str(err))
    found = _GLOBAL.search(text)
    if found:
        return f"it pickles a Python object ({found.group(1)}), which could run code when loaded"
    detail = _DETAIL.search(text)
    what = detail.group(1).strip().rstrip(".") if detail else "an unreadable pickle"
    return f"it is not a tensors-only torch file (the weights-only reader stopped at: {what[:120]})"
