"""Exact pins of the peer tools' virtualenvs (see venvs.py), kept apart from the scripts they run.

deepchecks 0.19.1 does not import against today's stack: scikit-learn >= 1.6 dropped the
'max_error' scorer name it registers at import, it needs numpy < 2 era pandas, and it imports
pkg_resources (setuptools < 81). The rest are pinned so the peer's numbers do not move under us.
"""

from __future__ import annotations

DEEPCHECKS_REQUIREMENTS = [
    "deepchecks==0.19.1",
    "numpy==1.26.4",
    "pandas==2.2.3",
    "scikit-learn==1.5.2",
    "scipy==1.17.1",
    "statsmodels==0.15.0",
    "category-encoders==2.7.0",
    "PyNomaly==0.4.0",
    "plotly==7.1.0",
    "jsonpickle==4.1.4",
    "setuptools==75.8.0",
]

# AutoGluon's MultiModalPredictor (benchmarks/auto.py). It caps torch below 2.14 and torchvision
# below 0.29; PyPI's torchvision 0.28.0 is built against PyPI's torch 2.13.0 (a CUDA build, run
# on the CPU here): the CPU torch 2.13.0 wheel on this machine's disk fails its import
# ("operator torchvision::nms does not exist"), so this venv installs from PyPI only.
AUTOGLUON_REQUIREMENTS = ["autogluon.multimodal==1.6.3", "torch==2.13.0", "torchvision==0.28.0"]
