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


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_an_approximate_build_searches_its_sentences_through_a_saved_index(kind, embedder, tmp_path) -> None:
    from index.build import build_index
    from index.store import SENTENCE_ANN_SEARCH, SENTENCE_INDEX, load_index
    from qa.retrieval import Retriever
    from tests.conftest import SEED_CORPUS

    build_index(SEED_CORPUS, tmp_path / "approx", embedder, index_type=kind, progress=False)
    build_index(SEED_CORPUS, tmp_path / "flat", embedder, index_type="flat", progress=False)
    approx, flat = load_index(tmp_path / "approx"), load_index(tmp_path / "flat")
    assert (approx.build_dir / SENTENCE_INDEX).is_file() and SENTENCE_INDEX in approx.manifest["files"]
    assert not (flat.build_dir / SENTENCE_INDEX).exists() and flat.sentence_index is None
    assert approx.sentence_index is not None and approx.sentence_index.ntotal == len(approx.sentences)
    if kind == "hnsw":
        assert approx.sentence_index.hnsw.efSearch == SENTENCE_ANN_SEARCH["hnsw"]
    # The vectors are mapped from the build's files, not copied into memory.
    assert isinstance(approx.sentence_vectors, np.memmap) and isinstance(approx.chunk_vectors, np.memmap)
    q = embedder.encode_query("How much was the lawsuit against the set designer?")
    ids_a, sims_a = Retriever(approx).nearest_sentences(q, 10)
    ids_f, sims_f = Retriever(flat).nearest_sentences(q, 10)
    assert len(set(ids_a.tolist()) & set(ids_f.tolist())) >= 9  # the same sentences (a small corpus: near exact)
    assert np.allclose(np.sort(sims_a), np.sort(sims_f), atol=1e-4) or kind == "ivf"
    want = Retriever(flat).search(q, "lawsuit set designer", 5)
    got = Retriever(approx).search(q, "lawsuit set designer", 5)
    assert [h.chunk_id for h in got][:3] == [h.chunk_id for h in want][:3]
