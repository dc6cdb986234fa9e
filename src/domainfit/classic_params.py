"""The parameters of each classic method, by the name ``--param`` takes, with their defaults and
the names the papers give them, so ``domainfit align --help`` and the README can list them and
a paper's name (``lambda``, ``k``) is accepted for the option's name (``lam``, ``dim``).

This module imports nothing heavy and sits outside ``domainfit.adapt`` (whose package imports
torch): the CLI builds ``align --help`` from it at start-up, so it
repeats the defaults of the method signatures in ``classic``; ``defaults_match`` (checked by
the tests) says whether the two still agree.
"""

from __future__ import annotations

from typing import Any

# method -> (name, default, paper symbol, meaning) per parameter, in signature order
PARAMS: dict[str, list[tuple[str, Any, str, str]]] = {
    "none": [],
    "coral": [("eps", 1.0, "λ", "ridge added to both covariances")],
    "sa": [("dim", 100, "d", "subspace dimension")],
    "tca": [
        ("dim", 100, "m", "number of transfer components"),
        ("mu", 1.0, "μ", "trade-off of the projection norm"),
        ("kernel", "linear", "", "linear, rbf or primal"),
        ("gamma", None, "", "rbf width; default 1/features"),
        ("normalize", False, "", "unit-norm samples first"),
    ],
    "jda": [
        ("dim", 100, "k", "subspace dimension"),
        ("lam", 1.0, "λ", "regularisation of the projection"),
        ("iterations", 10, "T", "pseudo-labelling rounds"),
        ("kernel", "primal", "", "primal, linear or rbf"),
        ("classifier", "1nn", "", "pseudo-labeller; default: --classifier"),
        ("gamma", None, "", "rbf width; default 1/features"),
        ("normalize", True, "", "unit-norm samples first, as the JDA code"),
    ],
    "gfk": [("dim", 20, "d", "subspace dimension of each domain")],
    "pca": [("dim", 100, "k", "principal components kept")],
}
# a paper's name (or a common spelling) -> the parameter name; applied only when the method
# takes that parameter, so ``k`` is ``dim`` for jda and an error for coral
ALIASES: dict[str, str] = {
    "lambda": "lam",
    "λ": "lam",
    "k": "dim",
    "d": "dim",
    "m": "dim",
    "μ": "mu",
    "t": "iterations",
    "iters": "iterations",
    "iter": "iterations",
}


def defaults(method: str) -> dict[str, Any]:
    """Each parameter of ``method`` with its default."""
    return {name: default for name, default, _, _ in PARAMS[method]}


def defaults_match() -> bool:
    """Whether ``PARAMS`` still lists the parameters and defaults of ``classic``'s methods."""
    import inspect

    from domainfit.adapt.classic import CLASSIC_METHODS

    if set(CLASSIC_METHODS) != set(PARAMS):
        return False
    for method, fn in CLASSIC_METHODS.items():
        sig = list(inspect.signature(fn).parameters.values())[3:]
        if {p.name: p.default for p in sig} != defaults(method):
            return False
    return True


def canonical(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with aliases replaced by the parameter names of ``method``; an unknown name
    is a ValueError that lists every valid name."""
    takes = defaults(method)
    out: dict[str, Any] = {}
    unknown = []
    for key, value in params.items():
        name = key if key in takes else _alias(method, key.lower(), takes)
        if name is None:
            unknown.append(key)
        elif name in out:
            raise ValueError(f"method '{method}': parameter {name} is given twice (as {key})")
        else:
            out[name] = value
    if unknown:
        valid = ", ".join(takes) or "no parameters"
        raise ValueError(f"method '{method}' takes {valid}; got unknown {', '.join(unknown)}")
    return out


def _alias(method: str, key: str, takes: dict[str, Any]) -> str | None:
    if method == "coral" and key in ("lambda", "λ"):
        return "eps"
    target = ALIASES.get(key)
    return target if target in takes else None


def params_help() -> str:
    """One line per method: ``name=default (paper symbol: meaning)``, for --help and README."""
    lines = []
    for method, params in PARAMS.items():
        parts = []
        for name, default, symbol, meaning in params:
            note = f"{symbol}: {meaning}" if symbol else meaning
            parts.append(f"{name}={default} ({note})")
        lines.append(f"{method}: " + ("; ".join(parts) or "no parameters"))
    lines.append(
        "Paper names are accepted: lambda/λ -> lam (coral: eps), k/d/m -> dim, μ -> mu, "
        "T/iters -> iterations."
    )
    return "\n".join(lines)
