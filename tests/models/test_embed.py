"""``domainfit.embed``: pretrained features for a data set, in its row order, cached on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import domainfit
from domainfit.errors import ConfigError
from tests.models.tiny import WORDS, save_tiny_bert


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("bert"))


def texts_of_mixed_lengths(n: int = 23) -> domainfit.DomainDataset:
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, int(rng.integers(1, 12)))) for _ in range(n)]
    return domainfit.from_pandas(pd.DataFrame({"text": texts, "label": np.arange(n) % 2}))


def test_rows_come_back_in_the_data_order(tiny_bert: Path) -> None:
    # batches run shortest-first; each row must still land on its own index
    ds = texts_of_mixed_lengths()
    together = domainfit.embed(ds, f"hf:{tiny_bert}", batch_size=4)
    alone = np.concatenate(
        [domainfit.embed(ds.subset(np.array([i])), f"hf:{tiny_bert}") for i in range(len(ds))]
    )
    assert together.shape == (len(ds), 32)
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_cache_is_reused_and_keyed_by_settings(tiny_bert: Path, tmp_path: Path) -> None:
    ds = texts_of_mixed_lengths()
    first = domainfit.embed(ds, f"hf:{tiny_bert}", cache_dir=tmp_path)
    files = sorted(tmp_path.glob("*.safetensors"))
    assert len(files) == 1
    again = domainfit.embed(ds, f"hf:{tiny_bert}", cache_dir=tmp_path)
    np.testing.assert_array_equal(first, again)
    assert sorted(tmp_path.glob("*.safetensors")) == files
    cls = domainfit.embed(ds, f"hf:{tiny_bert}", pooling="cls", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.safetensors"))) == 2
    assert not np.allclose(cls, first)
    # a layer's features are cached apart from the last layer's, and equal uncached ones
    layer1 = domainfit.embed(ds, f"hf:{tiny_bert}", layer=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.safetensors"))) == 3
    assert not np.allclose(layer1, first)
    np.testing.assert_allclose(layer1, domainfit.embed(ds, f"hf:{tiny_bert}", layer=1), atol=1e-6)


def test_a_backbone_built_from_the_data_is_refused() -> None:
    x = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ConfigError, match="no pretrained features"):
        domainfit.embed(domainfit.from_numpy(x, np.arange(10) % 2), "mlp:8")
