"""Hugging Face ``datasets`` saved with ``save_to_disk`` (a Dataset or a DatasetDict).

Read offline with ``datasets.load_from_disk``. For a DatasetDict, ``data.source.hf_split`` picks
the split; without it "train" is used, or the only split when there is just one. The chosen
split becomes a pandas frame and columns are assigned as for tables (``frame_to_dataset``): the
``text``, ``label``, ``features``, ``group``, ``time``, ``split`` and ``drop_columns`` settings
work the same.

``ClassLabel`` label columns keep their integer codes; their names go to ``meta["class_names"]``
(code i is ``class_names[i]``) and the code -1, which Hugging Face uses for "no label", becomes
a missing label.

Media columns (``Image``, ``Audio``, ``Video``, ...) are not supported as inputs yet: the samples
of an image data set must be files. Such a column may stay in the data set as long as it is not
used (``text`` names another column, ``features`` leaves it out, or ``drop_columns`` lists it);
otherwise loading fails with a DataError that says how to export the images to a folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from domainfit.config import DataSpec
from domainfit.data.dataset import DomainDataset
from domainfit.data.sources import SOURCES
from domainfit.data.sources.table import frame_to_dataset
from domainfit.errors import DataError

if TYPE_CHECKING:
    from datasets import Dataset

_MEDIA_FEATURES = ("Image", "Audio", "Video", "Pdf", "Nifti")
_NO_LABEL = -1
# Files that save_to_disk writes at the top of a DatasetDict or a Dataset folder.
_MARKERS = ("dataset_dict.json", "state.json")


@SOURCES.register("hf_disk")
def load(spec: DataSpec, path: Path) -> DomainDataset:
    saved = _load_from_disk(path)
    data, split = _pick_split(saved, spec, path)
    origin = f"{path} (split {split})" if split else str(path)
    media = _media_columns(data)
    _check_media_unused(media, spec, data.column_names, origin)
    if media:  # unused: drop before pandas so image bytes are never copied into Python objects
        data = data.remove_columns(list(media))
        kept = [c for c in spec.drop_columns if c not in media]
        spec = spec.model_copy(update={"drop_columns": kept})
    frame, class_names = _frame(data, spec)
    ds = frame_to_dataset(frame, spec, origin, spec.domain or path.resolve().name)
    ds.meta["hf_split"] = split
    if media:
        ds.meta["ignored_media_columns"] = list(media)
    if class_names is not None:
        ds.meta["class_names"] = class_names
    return ds


def _load_from_disk(path: Path) -> Any:
    from datasets import load_from_disk  # imported here: `datasets` takes ~1 s to import

    fix = "point data.source.spec at a folder written by Dataset.save_to_disk"
    if not path.is_dir():
        raise DataError(f"{path} is not a folder, so not a saved Hugging Face dataset", fix)
    if not any((path / name).is_file() for name in _MARKERS):
        raise DataError(
            f"{path} is not a saved Hugging Face dataset (it has no {' or '.join(_MARKERS)})", fix
        )
    try:
        return load_from_disk(str(path))
    except (OSError, ValueError) as err:  # missing shards, bad JSON, bad Arrow files
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"saved dataset {path} cannot be read: {first}", fix) from None


def _pick_split(saved: Any, spec: DataSpec, path: Path) -> tuple[Dataset, str | None]:
    """The Dataset to use and its split name (None for a lone Dataset without one)."""
    from datasets import DatasetDict

    if not isinstance(saved, DatasetDict):
        own = None if saved.split is None else str(saved.split)
        if spec.hf_split is not None and spec.hf_split != own:
            raise DataError(
                f"{path} holds a single Dataset (split {own or 'unnamed'}), not a DatasetDict, "
                f"so it has no split {spec.hf_split!r}",
                "remove data.source.hf_split",
            )
        return saved, own
    splits = list(saved)
    listed = ", ".join(splits) or "(none)"
    if spec.hf_split is not None:
        if spec.hf_split not in saved:
            raise DataError(
                f"split {spec.hf_split!r} not found in {path} (splits: {listed})",
                "set data.source.hf_split to one of them",
            )
        return saved[spec.hf_split], spec.hf_split
    if "train" in saved:
        return saved["train"], "train"
    if len(splits) == 1:
        return saved[splits[0]], splits[0]
    raise DataError(
        f"{path} has no 'train' split (splits: {listed})",
        "set data.source.hf_split to the split to load",
    )


def _media_columns(data: Dataset) -> dict[str, str]:
    """Column name -> feature type ("Image", ...) for columns holding media, not values."""
    types = {name: type(feature).__name__ for name, feature in data.features.items()}
    return {name: kind for name, kind in types.items() if kind in _MEDIA_FEATURES}


def _check_media_unused(
    media: dict[str, str], spec: DataSpec, columns: list[str], origin: str
) -> None:
    """Fail when a media column would be read as a role or, by default, as a tabular feature."""
    roles = [spec.text, spec.label, spec.group, spec.time, spec.split, *(spec.features or [])]
    used = [c for c in media if c in roles]
    # Mirrors frame_to_dataset: without text/features, a 'text' column or all columns are used.
    if spec.text is None and spec.features is None and "text" not in columns:
        used += [c for c in media if c not in spec.drop_columns and c not in used]
    if not used:
        return
    raise DataError(
        f"column '{used[0]}' in {origin} is a {media[used[0]]} column, which the hf_disk format "
        "does not read yet",
        "export the images to one sub-folder per class and use format image_folder, or choose "
        "other columns with data.source.text, data.source.features or data.source.drop_columns",
    )


def _frame(data: Dataset, spec: DataSpec) -> tuple[pd.DataFrame, list[str] | None]:
    """The split as pandas; a ClassLabel label column gets -1 turned into a missing value."""
    from datasets import ClassLabel

    frame = cast(pd.DataFrame, data.to_pandas())  # an iterator only when batched=True
    label = spec.label or ("label" if "label" in data.features else None)
    feature = data.features.get(label) if label else None
    if not isinstance(feature, ClassLabel):
        return frame, None
    frame[label] = frame[label].where(frame[label] != _NO_LABEL)
    return frame, list(feature.names)
