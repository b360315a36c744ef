"""The approximate indexes search as widely as ANN_SEARCH says, whether built now or loaded from an older build."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from index.store import ANN_SEARCH, make_faiss_index, set_search_breadth


def _vectors(n: int = 2000, dim: int = 16) -> np.ndarray:
    x = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_built_indexes_get_the_search_breadth() -> None:
    x = _vectors()
    assert make_faiss_index(x, "hnsw").hnsw.efSearch == ANN_SEARCH["hnsw"]
    ivf = make_faiss_index(x, "ivf")
    assert ivf.nprobe == min(ivf.nlist, ANN_SEARCH["ivf"])
    assert make_faiss_index(x, "flat").ntotal == len(x)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_an_older_build_searches_as_widely_once_loaded(kind: str) -> None:
    x = _vectors()
    index = make_faiss_index(x, kind)
    if kind == "hnsw":
        index.hnsw.efSearch = 16  # what an older build may have stored
    else:
        index.nprobe = 1
    loaded = set_search_breadth(faiss.deserialize_index(faiss.serialize_index(index)))
    if kind == "hnsw":
        assert loaded.hnsw.efSearch == ANN_SEARCH["hnsw"]
    else:
        assert loaded.nprobe == min(loaded.nlist, ANN_SEARCH["ivf"])
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, want = exact.search(x[:50], 10)
    _, got = loaded.search(x[:50], 10)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got, strict=True)]) >= 0.95
