"""``nondeterministic_resume``: replay the run's last checkpoint interval from the checkpoint
before it and compare the weights the replay ends with to the ones the run saved.

A run that resumes differently from how it would have continued (an RNG state not restored, a
data order that depends on when the process started, a scheduler stepped twice) produces
results nobody can reproduce. The replay costs one checkpoint interval of training, so it runs
only when asked (``diagnose --run RUN --check-resume``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from safetensors.torch import load_file

from domainfit.diagnose.findings import Finding
from domainfit.train.checkpoint import LATEST

TOLERANCE = 1e-6  # relative weight difference; a deterministic replay is bit-identical on CPU


def _steps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("step-*") if (p / "state.json").is_file())


def check_resume(run_dir: Path) -> tuple[list[Finding], str | None]:
    """Findings, or why the check could not run."""
    from domainfit.api import fit
    from domainfit.progress import silenced

    steps = _steps(run_dir / "checkpoints")
    if len(steps) < 2:
        return [], (
            "fewer than two checkpoints kept (the replay starts from the earlier one); "
            "fit with train.keep_checkpoints: 2"
        )
    earlier, later = steps[-2], steps[-1]
    with tempfile.TemporaryDirectory(prefix="domainfit-resume-") as tmp:
        replay = Path(tmp) / "run"
        replay.mkdir()
        shutil.copy2(run_dir / "config.yaml", replay / "config.yaml")
        ckpts = replay / "checkpoints"
        ckpts.mkdir()
        shutil.copytree(earlier, ckpts / earlier.name)
        (ckpts / LATEST).write_text(earlier.name, encoding="utf-8")
        with silenced():
            fit(resume=replay, overrides=["track.enabled=false"])
        replayed = _steps(ckpts)
        if not replayed or replayed[-1].name != later.name:
            return [], f"the replay ended at {replayed[-1].name if replayed else 'nothing'}"
        a = load_file(str(later / "model.safetensors"))
        b = load_file(str(replayed[-1] / "model.safetensors"))
    worst, name = 0.0, ""
    for key, t in a.items():
        if key not in b or not t.is_floating_point():
            continue
        diff = float((b[key].float() - t.float()).norm() / (t.float().norm() + 1e-12))
        if diff > worst:
            worst, name = diff, key
    if worst <= TOLERANCE:
        return [], None
    return [
        Finding(
            "nondeterministic_resume",
            "high",
            f"resuming from {earlier.name} does not reproduce {later.name}: weights differ by "
            f"up to {worst:.2g} (relative, {name})",
            {
                "from": earlier.name,
                "to": later.name,
                "largest_relative_difference": worst,
                "tensor": name,
            },
            "check custom code for unseeded randomness (data loading workers, augmentation), "
            "and keep train.precision: fp32 for exact replays; on a GPU, nondeterministic "
            "kernels also differ (torch.use_deterministic_algorithms)",
            score=worst,
        )
    ], None
