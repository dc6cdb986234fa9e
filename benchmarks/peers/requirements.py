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
