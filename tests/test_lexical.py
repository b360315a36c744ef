"""BM25 on bm25s: the classic Okapi scores over our tokens, saving with a build, loading and its fallbacks."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from qa import lexical
from qa.lexical import BM25, LEXICAL_DIR, META, load_for_build, save_with_build, tokens, top_ids

TEXTS = [
    "Cedric Charbit is the chief executive of Balenciaga.",
    "The brand sued the designer over the campaign; the designer apologized.",
    "Kim Kardashian walked the couture show, and the brand thanked her.",
    "",
    "the of and",  # stopwords only: no tokens
    "Balenciaga, Balenciaga and Balenciaga: the brand repeated its name in 2022.",
]
QUERIES = ["Who is Charbit?", "Why did the brand sue the designer?", "Balenciaga 2022", "brand brand brand", "the"]


def reference_scores(texts: list[str], query: str, k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """Okapi BM25 written out: Lucene idf, tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg)), terms once."""
    docs = [Counter(tokens(t)) for t in texts]
    lengths = [sum(d.values()) for d in docs]
    avg = sum(lengths) / len(docs)
    out = np.zeros(len(docs))
    for term in set(tokens(query)):
        df = sum(term in d for d in docs)
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            tf = d[term]
            out[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / avg))
    return out


@pytest.mark.parametrize("query", QUERIES)
def test_scores_are_okapi_bm25_over_our_tokens(query: str) -> None:
    bm25 = BM25(TEXTS)
    assert bm25.n == len(TEXTS)
    np.testing.assert_allclose(bm25.scores(query), reference_scores(TEXTS, query), rtol=1e-5, atol=1e-6)


def test_normalised_scores_and_idf() -> None:
    bm25 = BM25(TEXTS)
    # An ideal passage (every query word once, average length) scores 1: the scale retrieval fuses on.
    ideal = sum(bm25.idf_of(t) for t in set(tokens("Charbit brand")))
    np.testing.assert_allclose(bm25.normalised_scores("Charbit brand"), bm25.scores("Charbit brand") / ideal)
    # Rarer words weigh more; an unseen word gets the highest idf there is.
    assert bm25.idf_of(tokens("Charbit")[0]) > bm25.idf_of(tokens("brand")[0])
    assert bm25.idf_of("neverseen") == pytest.approx(math.log(1 + (len(TEXTS) + 0.5) / 0.5))
    assert bm25.idf_of("neverseen") > bm25.idf_of(tokens("Charbit")[0])
    assert not bm25.normalised_scores("the of").any()  # nothing left of the query: all zero, no division


def test_edge_cases_score_zero() -> None:
    for texts in ([], [""], ["the of and", "a"]):
        bm25 = BM25(texts)
        assert bm25.scores("Charbit").shape == (len(texts),)
        assert not bm25.scores("Charbit").any() and not bm25.normalised_scores("Charbit").any()
        assert bm25.idf_of("x") == pytest.approx(math.log(1 + (len(texts) + 0.5) / 0.5))
    assert not BM25(TEXTS).scores("").any()


@pytest.mark.parametrize("mmap", [False, True])
def test_save_and_load_give_the_same_scores(tmp_path: Path, mmap: bool) -> None:
    bm25 = BM25(TEXTS)
    bm25.save(tmp_path / "bm25")
    loaded = BM25.load(tmp_path / "bm25", mmap=mmap)
    assert loaded.n == bm25.n
    for q in QUERIES:
        np.testing.assert_array_equal(loaded.scores(q), bm25.scores(q))
        assert [loaded.idf_of(t) for t in tokens(q)] == [bm25.idf_of(t) for t in tokens(q)]
    empty = tmp_path / "empty"
    BM25([]).save(empty)
    assert BM25.load(empty).n == 0 and BM25.load(empty).scores("x").shape == (0,)


def test_load_refuses_an_altered_or_foreign_index(tmp_path: Path) -> None:
    folder = tmp_path / "bm25"
    BM25(TEXTS).save(folder)
    data = next(folder.glob("data*.npy"))
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="altered"):
        BM25.load(folder)
    BM25(TEXTS).save(folder)
    meta = json.loads((folder / META).read_text())
    (folder / META).write_text(json.dumps({**meta, "tokens": "another tokenizer"}))
    with pytest.raises(ValueError, match="tokenizer"):
        BM25.load(folder)


def test_load_for_build_falls_back_to_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_with_build(tmp_path, TEXTS)
    assert (tmp_path / LEXICAL_DIR / META).is_file()
    built = lexical.BM25.__init__
    monkeypatch.setattr(lexical.BM25, "__init__", lambda *a, **k: pytest.fail("built instead of loaded"))
    assert load_for_build(tmp_path, TEXTS).n == len(TEXTS)
    monkeypatch.setattr(lexical.BM25, "__init__", built)
    # Saved for other chunks, damaged, absent, or no build folder at all: built from the texts, same scores.
    assert load_for_build(tmp_path, TEXTS[:2]).n == 2
    (tmp_path / LEXICAL_DIR / "vocab.index.json").write_text("{}")
    assert load_for_build(tmp_path, TEXTS).n == len(TEXTS)
    for folder in (tmp_path / "nothing-here", None):
        np.testing.assert_array_equal(load_for_build(folder, TEXTS).scores("Charbit"), BM25(TEXTS).scores("Charbit"))


def test_top_ids_takes_the_highest_positive_scores() -> None:
    scores = np.array([0.0, 3.0, 1.0, 0.0, 2.0, 5.0], dtype=np.float32)
    assert sorted(top_ids(scores, 3).tolist()) == [1, 4, 5]
    assert sorted(top_ids(scores, 10).tolist()) == [1, 2, 4, 5]  # zeros are no lexical match
    assert top_ids(scores, 0).tolist() == [] and top_ids(np.zeros(0, np.float32), 5).tolist() == []


def test_a_build_saves_bm25_and_retrieval_loads_it(seed_index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from index.store import current_build_dir, load_index
    from qa.retrieval import Retriever

    build = current_build_dir(seed_index_dir)
    assert (build / LEXICAL_DIR / META).is_file()
    index = load_index(seed_index_dir)
    fresh = BM25([c.text for c in index.chunks])
    monkeypatch.setattr(lexical.BM25, "__init__", lambda *a, **k: pytest.fail("built instead of loaded"))
    retriever = Retriever(index)
    for q in QUERIES:
        np.testing.assert_array_equal(retriever.bm25.scores(q), fresh.scores(q))
