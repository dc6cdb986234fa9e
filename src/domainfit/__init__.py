"""domainfit: adapt pretrained models to your domain's data, and learn why it works or fails."""

from domainfit.api import (
    align,
    audit,
    diagnose,
    evaluate,
    fit,
    inspect,
    lr_find,
    predict,
    prepare,
    rank,
    sweep,
)
from domainfit.data.dataset import DomainDataset
from domainfit.data.load import load_domain as load_data
from domainfit.data.sources.memory import from_numpy, from_pandas
from domainfit.embed import embed

__version__ = "0.1.0"
__all__ = [
    "DomainDataset",
    "align",
    "audit",
    "diagnose",
    "embed",
    "evaluate",
    "fit",
    "from_numpy",
    "from_pandas",
    "inspect",
    "load_data",
    "lr_find",
    "predict",
    "prepare",
    "rank",
    "sweep",
]
