"""Preprocessing fitted on the training split: imputation, scaling and one-hot encoding.

scikit-learn fits the statistics; they are kept as plain lists and ``transform`` applies them
itself, so ``to_dict``/``save`` write JSON only and a restored preprocessor gives bit-identical
output (no pickle). Tabular data: numeric columns (bool as 0/1) are imputed and scaled; the rest
are categorical, one-hot encoded or dropped (``categorical``). Categories are imputed with the
most frequent training category (impute mean/median/most_frequent: categories have no mean) or
``fill_value`` (constant); an unseen category, or a missing one left unimputed, encodes as all
zeros. Output: dense float32, numeric columns first. Dense feature matrices are treated like
numeric columns. Sparse ones are never centred (that would fill every zero): standard and robust
only divide by the spread, and minmax uses MaxAbsScaler semantics (x / max|x|: [-1, 1], [0, 1]
for non-negative counts), saved as scaler "maxabs". NaN in a sparse matrix is an error (sparse
data has no imputable gaps). Output: float32 CSR.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import preprocessing as skp
from sklearn.impute import SimpleImputer

from domainfit.config import PreprocessConfig
from domainfit.data.dataset import DomainDataset
from domainfit.errors import ConfigError, DataError
from domainfit.io_utils import check_format, read_state, write_json_atomic

Scaled = tuple[str, dict[str, list[float] | None]]  # scaler name, fitted statistics
FORMAT = "domainfit.preprocessor"
VERSION = 1


class Preprocessor:
    """``fit`` on the training split, then ``transform`` any split or domain."""

    def __init__(self, cfg: PreprocessConfig | None = None) -> None:
        self.cfg = cfg or PreprocessConfig()
        self.state: dict[str, Any] | None = None

    def fit(self, ds: DomainDataset) -> Preprocessor:
        _check_kind(ds)
        if len(ds) == 0:
            raise DataError(f"cannot fit preprocessing on domain {ds.domain!r}: no samples")
        if ds.kind == "tabular":
            self.state = _fit_tabular(ds.inputs, self.cfg)
        else:
            self.state = _fit_features(ds, self.cfg)
        return self

    def transform(self, ds: DomainDataset) -> np.ndarray | sp.csr_matrix:
        state = self._fitted()
        _check_kind(ds)
        if ds.kind != state["kind"]:
            raise DataError(
                f"domain {ds.domain!r} holds {ds.kind} data but the preprocessor was fitted "
                f"on {state['kind']} data",
                "use the same kind of data for every domain",
            )
        if ds.kind == "tabular":
            return _transform_tabular(ds.inputs, state)
        return _transform_features(ds.inputs, state)

    @property
    def width(self) -> int:
        """Number of output columns."""
        return len(self.feature_names_out())

    def fit_transform(self, ds: DomainDataset) -> np.ndarray | sp.csr_matrix:
        return self.fit(ds).transform(ds)

    def feature_names_out(self) -> list[str]:
        state = self._fitted()
        names = list(state["numeric"])
        for col, cats in zip(state["categorical"], state["categories"], strict=True):
            names.extend(f"{col}={c}" for c in cats)
        return names

    def to_dict(self) -> dict[str, Any]:
        head = {"format": FORMAT, "version": VERSION, "config": self.cfg.model_dump()}
        return head | copy.deepcopy(self._fitted())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessor:
        check_format(d, FORMAT, VERSION, "preprocessor")
        pre = cls(PreprocessConfig(**d["config"]))
        state = {k: v for k, v in d.items() if k not in ("format", "version", "config")}
        pre.state = copy.deepcopy(state)
        return pre

    def save(self, path: str | Path) -> None:
        """Atomic: a temporary file in the same folder replaces ``path`` when complete."""
        write_json_atomic(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Preprocessor:
        d = read_state(path, FORMAT, VERSION, "preprocessor")
        return cls.from_dict(d)

    def _fitted(self) -> dict[str, Any]:
        if self.state is None:
            raise RuntimeError("Preprocessor is not fitted; call fit(train) first")
        return self.state


def _check_kind(ds: DomainDataset) -> None:
    if ds.kind not in ("tabular", "features"):
        raise DataError(
            f"preprocessing applies to tabular and feature data; domain {ds.domain!r} holds "
            f"{ds.kind} data",
            "do not run the preprocessor on text or image domains",
        )


def _fit_tabular(frame: pd.DataFrame, cfg: PreprocessConfig) -> dict[str, Any]:
    numeric, categorical = _split_columns(frame)
    _check_not_empty([str(c) for c in frame.columns], frame.isna().all(axis=0).to_numpy())
    if cfg.categorical == "drop":
        categorical = []
    if not numeric and not categorical:
        raise DataError(
            f"no feature columns are left: all of {[str(c) for c in frame.columns]} are "
            "categorical and preprocess.categorical=drop",
            "set preprocess.categorical: onehot",
        )
    x = _numeric_block(frame, numeric)
    fill = _fit_impute(x, cfg) if numeric else None
    scaled = _fit_scaler(_impute(x, fill), cfg.scaler, sparse=False)
    cat_fill, categories = _fit_categorical(frame, categorical, cfg)
    return _state("tabular", False, numeric, fill, scaled, (categorical, cat_fill, categories))


def _fit_features(ds: DomainDataset, cfg: PreprocessConfig) -> dict[str, Any]:
    names = ds.feature_names()
    sparse = sp.issparse(ds.inputs)
    x = _feature_matrix(ds.inputs, sparse)
    if sparse:
        return _state("features", True, names, None, _fit_scaler(x, cfg.scaler, sparse=True))
    _check_not_empty(names, np.isnan(x).all(axis=0))
    fill = _fit_impute(x, cfg)
    return _state("features", False, names, fill, _fit_scaler(_impute(x, fill), cfg.scaler))


def _state(
    kind: str,
    sparse: bool,
    numeric: list[str],
    fill: list[float] | None,
    scaled: Scaled,
    cats: tuple[list[str], list[str | None], list[list[str]]] = ([], [], []),
) -> dict[str, Any]:
    """The fitted statistics: plain JSON values, all that ``to_dict`` saves."""
    return {
        "kind": kind, "sparse": sparse, "numeric": numeric, "fill": fill, "scaler": scaled[0],
        "scale_stats": scaled[1], "categorical": cats[0], "categorical_fill": cats[1],
        "categories": cats[2],
    }  # fmt: skip


def _split_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    numeric: list[str] = []
    categorical: list[str] = []
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            raise DataError(
                f"feature column {col!r} holds dates or durations ({dtype}), which cannot be "
                "scaled or one-hot encoded",
                "name it as data.source.time, or drop it with data.source.drop_columns",
            )
        numeric_kind = pd.api.types.is_numeric_dtype(dtype) and not isinstance(
            dtype, pd.CategoricalDtype
        )
        (numeric if numeric_kind else categorical).append(str(col))
    return numeric, categorical


def _check_not_empty(columns: list[str], all_missing: np.ndarray) -> None:
    empty = [c for c, gone in zip(columns, all_missing, strict=True) if gone]
    if empty:
        raise DataError(
            f"feature column(s) {', '.join(map(repr, empty))} are entirely missing in the "
            "training split, so nothing can be learnt or imputed from them",
            "drop them with data.source.drop_columns",
        )


def _fit_impute(x: np.ndarray, cfg: PreprocessConfig) -> list[float] | None:
    if cfg.impute == "none":
        return None
    if cfg.impute == "constant":
        imputer = SimpleImputer(strategy="constant", fill_value=_numeric_fill(cfg))
    else:
        imputer = SimpleImputer(strategy=cfg.impute, keep_empty_features=True)
    imputer.fit(x)
    return [float(v) for v in imputer.statistics_]


def _numeric_fill(cfg: PreprocessConfig) -> float:
    try:
        return float(_fill_value(cfg))
    except ValueError:
        raise ConfigError(
            f"preprocess.fill_value={cfg.fill_value!r} is not a number, but numeric columns "
            "need a numeric fill value",
            "set preprocess.fill_value to a number",
        ) from None


def _fill_value(cfg: PreprocessConfig) -> float | str:
    if cfg.fill_value is None:
        raise ConfigError(
            "preprocess.impute=constant needs preprocess.fill_value", "set preprocess.fill_value"
        )
    return cfg.fill_value


def _fit_scaler(x: Any, kind: str, *, sparse: bool = False) -> Scaled:
    if kind == "none" or x.shape[1] == 0:
        return "none", {}
    if kind == "standard":
        std = skp.StandardScaler(with_mean=not sparse).fit(x)
        center = None if sparse else std.mean_
        return kind, {"center": _listed(center), "scale": _listed(std.scale_)}
    if kind == "robust":
        rob = skp.RobustScaler(with_centering=not sparse).fit(x)
        center = None if sparse else rob.center_
        return kind, {"center": _listed(center), "scale": _listed(rob.scale_)}
    if sparse:  # minmax on sparse data: MaxAbsScaler semantics keep zeros at zero
        return "maxabs", {"scale": _listed(skp.MaxAbsScaler().fit(x).scale_)}
    mm = skp.MinMaxScaler().fit(x)
    return kind, {"scale": _listed(mm.scale_), "min": _listed(mm.min_)}


def _listed(a: np.ndarray | None) -> list[float] | None:
    return None if a is None else [float(v) for v in a]


def _fit_categorical(
    frame: pd.DataFrame, columns: list[str], cfg: PreprocessConfig
) -> tuple[list[str | None], list[list[str]]]:
    if not columns:
        return [], []
    block = _category_block(frame, columns)
    fill: list[str | None] = [None] * len(columns)
    if cfg.impute == "constant":
        v = _fill_value(cfg)
        fill = [f"{v:g}" if isinstance(v, float) else str(v)] * len(columns)
    elif cfg.impute != "none":
        imputer = SimpleImputer(strategy="most_frequent", missing_values=None)
        fill = [str(v) for v in imputer.fit(block).statistics_]
    enc = skp.OneHotEncoder(handle_unknown="ignore").fit(_impute_categories(block, fill))
    # A missing value left unimputed must not become a category of its own.
    categories = [[str(c) for c in cats if c is not None] for cats in enc.categories_]
    return fill, categories


def _transform_tabular(frame: pd.DataFrame, state: dict[str, Any]) -> np.ndarray:
    _check_columns(frame, state["numeric"] + state["categorical"])
    x = _scale(_impute(_numeric_block(frame, state["numeric"]), state["fill"]), state)
    parts = [x]
    if state["categorical"]:
        block = _impute_categories(
            _category_block(frame, state["categorical"]), state["categorical_fill"]
        )
        parts.append(_one_hot(block, state["categories"]))
    return np.hstack(parts).astype(np.float32)


def _transform_features(inputs: Any, state: dict[str, Any]) -> np.ndarray | sp.csr_matrix:
    sparse = bool(state["sparse"])
    x = _feature_matrix(inputs, sparse)
    if x.shape[1] != len(state["numeric"]):
        raise DataError(
            f"the feature matrix has {x.shape[1]} columns but the preprocessor was fitted on "
            f"{len(state['numeric'])}",
            "give every domain the same feature columns",
        )
    if sparse:
        return _scale_sparse(x, state).astype(np.float32)
    return _scale(_impute(x, state["fill"]), state).astype(np.float32)


def _check_columns(frame: pd.DataFrame, columns: list[str]) -> None:
    have = {str(c) for c in frame.columns}
    missing = [c for c in columns if c not in have]
    if missing:
        raise DataError(
            f"feature column(s) {', '.join(map(repr, missing))} are missing; the preprocessor "
            f"was fitted on {columns}",
            "give every domain the same feature columns",
        )


def _numeric_block(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    lookup = {str(c): c for c in frame.columns}
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = frame[lookup[name]]
        if not pd.api.types.is_numeric_dtype(col.dtype) or isinstance(
            col.dtype, pd.CategoricalDtype
        ):
            col = _coerce_numeric(col, name)
        out[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _coerce_numeric(col: pd.Series, name: str) -> pd.Series:
    """A column numeric in training but not here (another domain, say) must still parse."""
    parsed = pd.to_numeric(col.astype(object), errors="coerce")
    bad = col.notna() & parsed.isna()
    if bad.any():
        raise DataError(
            f"column {name!r} is numeric in the training split but holds "
            f"{col[bad].iloc[0]!r} here ({int(bad.sum())} non-numeric values)",
            "clean the column so it holds numbers only",
        )
    return parsed


def _feature_matrix(inputs: Any, sparse: bool) -> Any:
    if sparse:
        x = sp.csr_matrix(inputs, dtype=np.float64)
        if np.isnan(x.data).any():
            raise DataError(
                "the sparse feature matrix holds NaN values, which cannot be imputed",
                "remove those samples (clean.missing: drop)",
            )
        return x
    dense = inputs.toarray() if sp.issparse(inputs) else inputs
    try:
        return np.asarray(dense, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"the feature matrix is not numeric ({exc})") from None


def _impute(x: np.ndarray, fill: list[float] | None) -> np.ndarray:
    if fill is None or x.shape[1] == 0:
        return x
    return np.where(np.isnan(x), np.asarray(fill, dtype=np.float64), x)


def _scale(x: np.ndarray, state: dict[str, Any]) -> np.ndarray:
    stats = state["scale_stats"]
    scaler = state["scaler"]
    # The same operations, in the same order, as scikit-learn's dense transforms.
    if scaler in ("standard", "robust"):
        if stats["center"] is not None:
            x = x - np.asarray(stats["center"])
        return x / np.asarray(stats["scale"])
    if scaler == "minmax":
        return x * np.asarray(stats["scale"]) + np.asarray(stats["min"])
    if scaler == "maxabs":
        return x / np.asarray(stats["scale"])
    return x


def _scale_sparse(x: sp.csr_matrix, state: dict[str, Any]) -> sp.csr_matrix:
    if state["scaler"] == "none":
        return x
    out = x.copy()
    out.data = out.data / np.asarray(state["scale_stats"]["scale"])[out.indices]
    return out


def _category_block(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Object array of strings, with None for missing (categories are kept as strings)."""
    lookup = {str(c): c for c in frame.columns}
    out = np.empty((len(frame), len(columns)), dtype=object)
    for j, name in enumerate(columns):
        col = frame[lookup[name]].astype(object)
        out[:, j] = [None if pd.isna(v) else str(v) for v in col]
    return out


def _impute_categories(block: np.ndarray, fill: list[str | None]) -> np.ndarray:
    filler = np.array(fill, dtype=object)
    return np.where(pd.isna(block) & pd.notna(filler), filler, block)


def _one_hot(block: np.ndarray, categories: list[list[str]]) -> np.ndarray:
    width = sum(len(c) for c in categories)
    out = np.zeros((block.shape[0], width), dtype=np.float64)
    rows = np.arange(block.shape[0])
    start = 0
    for j, cats in enumerate(categories):
        codes = pd.Index(cats, dtype=object).get_indexer(block[:, j])  # -1: unseen, missing
        hit = codes >= 0
        out[rows[hit], start + codes[hit]] = 1.0
        start += len(cats)
    return out
