"""Start-up cost: ``domainfit --help`` and ``import domainfit`` must not load the heavy stack.

Timings are measured in benchmarks/cli_startup.py; here we check the cause (which modules load),
which is what made the CLI take ~9 s to start on a 2-core machine."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["torch", "transformers", "sklearn", "scipy", "pandas", "mlflow", "optuna", "timm"]

PROBE = """
import json, sys
from domainfit.cli import main
code = main({argv!r})
print(json.dumps({{"code": code, "loaded": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def _probe(argv: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_loads_no_heavy_library() -> None:
    for argv in (["--help"], ["fit", "--help"], ["sweep", "--help"], ["diagnose", "--help"]):
        seen = _probe(argv)
        assert seen["code"] == 0, argv
        assert seen["loaded"] == [], f"{argv} imported {seen['loaded']}"


def test_import_domainfit_is_light_and_names_resolve() -> None:
    code = (
        "import json, sys, domainfit\n"
        f"before = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "names = {n: callable(getattr(domainfit, n)) for n in domainfit.__all__}\n"
        "print(json.dumps({'before': before, 'names': names}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["before"] == []
    assert seen["names"] and all(seen["names"].values())
    assert {"fit", "predict", "DomainDataset", "load_data", "embed"} <= set(seen["names"])
