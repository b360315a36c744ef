"""Chunking and sentence splitting: exact offsets, the tiktoken budget, overlap, and the model's window."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.build import build_index, plan_document
from index.chunking import ChunkingConfig, ChunkSpan, chunk_document, count_tokens
from index.cleaning import clean
from index.documents import read_corpus
from index.embedding import Embedder
from index.records import Document
from index.sentences import split_sentences
from index.store import IndexData, load_index

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"

WORDS = [
    "the", "council", "said", "budget", "river", "harbour", "mayor", "vote",
    "people", "city", "night", "storm", "repairs", "boats", "market",
]  # fmt: skip


@pytest.fixture(scope="module")
def seed_index(seed_index_dir: Path) -> IndexData:
    return load_index(seed_index_dir)


def _giant_sentence_doc() -> str:
    # 2000 words and not one period: one "sentence" of ~2000 tokens, far over every limit.
    rng = random.Random(7)
    body = " ".join(rng.choice(WORDS) for _ in range(2000))
    return f"Opening line of the story.\n\n{body}\n\nClosing line of the story.\n"


def _long_run_doc() -> str:
    # No whitespace for ~12,000 characters: only a cut inside the run can make it fit.
    rng = random.Random(8)
    run = "-".join(rng.choice(WORDS) for _ in range(1500))
    return f"Opening line of the story.\n\nThe code read {run} and then stopped.\n"


def _short_sentence_doc(n: int = 60) -> str:
    return " ".join(f"Fact number {i} is about the {WORDS[i % len(WORDS)]}." for i in range(n)) + "\n"


def _overlap(a: ChunkSpan, b: ChunkSpan) -> int:
    return max(0, a.end - b.start)


def _covered(spans: list[tuple[int, int]], text: str, start: int, end: int) -> bool:
    """Every non-whitespace character of text[start:end] lies inside one of `spans`."""
    inside = bytearray(len(text))
    for s, e in spans:
        inside[s:e] = b"\x01" * (e - s)
    return all(inside[i] or text[i].isspace() for i in range(start, end))


# --- the seed index -----------------------------------------------------------------------------


def test_every_seed_chunk_and_sentence_round_trips(seed_index: IndexData) -> None:
    assert seed_index.chunks and seed_index.sentences
    for item in [*seed_index.chunks, *seed_index.sentences]:
        doc = seed_index.documents[item.doc_id]
        assert doc.text[item.start : item.end] == item.text
        assert item.text == item.text.strip() and item.text


def test_seed_chunks_respect_the_token_budget(seed_index: IndexData) -> None:
    budget = seed_index.manifest["chunking"]["max_tokens"]
    sizes = [count_tokens(c.text) for c in seed_index.chunks]
    assert max(sizes) <= budget
    assert max(sizes) > budget // 2  # chunks are packed, not one sentence each


def test_no_seed_text_exceeds_the_model_window(seed_index: IndexData, embedder: Embedder) -> None:
    texts = [c.text for c in seed_index.chunks] + [s.text for s in seed_index.sentences]
    assert max(embedder.token_counts(texts)) <= embedder.max_tokens
    assert seed_index.manifest["max_model_tokens"] == embedder.max_tokens


def test_seed_sentences_lie_in_their_chunk_and_chunks_cover_the_kept_text(seed_index: IndexData) -> None:
    for s in seed_index.sentences:
        chunk = seed_index.chunks[s.chunk_id]
        assert chunk.doc_id == s.doc_id and chunk.start <= s.start and s.end <= chunk.end
    for doc in seed_index.documents.values():
        spans = [(c.start, c.end) for c in seed_index.chunks if c.doc_id == doc.doc_id]
        sentence_spans = [(s.start, s.end) for s in seed_index.sentences if s.doc_id == doc.doc_id]
        for p in clean(doc.text):  # nothing the cleaner kept is lost by chunking or splitting
            assert _covered(spans, doc.text, p.start, p.end), doc.text[p.start : p.end]
            assert _covered(sentence_spans, doc.text, p.start, p.end), doc.text[p.start : p.end]


def test_seed_chunks_overlap_when_the_trailing_sentence_fits_the_overlap_budget() -> None:
    config = ChunkingConfig()
    overlapped = 0
    for doc in read_corpus(SEED_CORPUS).documents:
        paragraphs = clean(doc.text)
        chunks = chunk_document(doc.text, paragraphs, config)
        block_of = {p.start: p.block for p in paragraphs}
        for a, b in zip(chunks, chunks[1:], strict=False):
            same_block = _block_at(block_of, a.start) == _block_at(block_of, b.start)
            last = a.sentences[-1]
            if not same_block:
                assert _overlap(a, b) == 0  # never carried across removed debris
            elif count_tokens(doc.text[last[0] : last[1]]) <= config.overlap_tokens:
                assert _overlap(a, b) > 0, (doc.doc_id, a, b)
                overlapped += 1
    assert overlapped >= 5


def _block_at(block_of: dict[int, int], offset: int) -> int:
    return block_of[max(s for s in block_of if s <= offset)]


# --- hand-made documents ------------------------------------------------------------------------


def test_consecutive_chunks_overlap_within_the_budget() -> None:
    text = _short_sentence_doc()
    config = ChunkingConfig(max_tokens=60, overlap_tokens=20)
    chunks = chunk_document(text, clean(text), config)
    assert len(chunks) >= 5
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert _overlap(a, b) > 0
        assert count_tokens(text[b.start : a.end]) <= config.overlap_tokens
        assert b.end > a.end  # every chunk brings new text
    assert all(count_tokens(text[c.start : c.end]) <= config.max_tokens for c in chunks)
    assert _covered([(c.start, c.end) for c in chunks], text, 0, len(text))


def test_no_overlap_when_not_configured() -> None:
    text = _short_sentence_doc()
    chunks = chunk_document(text, clean(text), ChunkingConfig(max_tokens=60, overlap_tokens=0))
    assert all(b.start > a.end for a, b in zip(chunks, chunks[1:], strict=False))
    assert _covered([(c.start, c.end) for c in chunks], text, 0, len(text))


def test_large_overlap_never_yields_a_chunk_with_nothing_new() -> None:
    # Regression: with a big overlap budget the carried sentences could fill a whole chunk, producing
    # a chunk contained in its predecessor (a duplicate vector).
    for doc in read_corpus(SEED_CORPUS).documents:
        for config in (ChunkingConfig(100, 60), ChunkingConfig(40, 30)):
            chunks = chunk_document(doc.text, clean(doc.text), config)
            assert all(b.end > a.end for a, b in zip(chunks, chunks[1:], strict=False)), doc.doc_id


@pytest.mark.parametrize("make", [_giant_sentence_doc, _long_run_doc], ids=["giant-sentence", "long-run"])
def test_over_long_text_is_cut_never_truncated(make: Callable[[], str], embedder: Embedder) -> None:
    text = make()
    assert max(embedder.token_counts([text])) > 4 * embedder.max_tokens  # the model would truncate it
    config = ChunkingConfig()
    plan = plan_document(Document(doc_id="big", title="big", text=text), config, embedder)
    chunks = [text[s:e] for s, e in plan.chunks]
    sentences = [text[s:e] for s, e, _ in plan.sentences]
    assert len(chunks) > 5
    assert max(embedder.token_counts(chunks + sentences)) <= embedder.max_tokens
    assert max(count_tokens(t) for t in chunks + sentences) <= config.max_tokens
    # Nothing lost: the pieces cover every character of the article.
    assert _covered([(s, e) for s, e, _ in plan.sentences], text, 0, len(text))
    assert _covered(plan.chunks, text, 0, len(text))


def test_model_window_is_enforced_when_the_token_budget_is_larger(embedder: Embedder) -> None:
    rng = random.Random(3)
    text = " ".join(f"Sentence {i} tells of the {rng.choice(WORDS)} and the {rng.choice(WORDS)}." for i in range(300))
    config = ChunkingConfig(max_tokens=1000, overlap_tokens=0)
    unchecked = chunk_document(text, clean(text), config)
    assert max(embedder.token_counts([text[c.start : c.end] for c in unchecked])) > embedder.max_tokens
    checked = chunk_document(text, clean(text), config, embedder.fits)
    assert max(embedder.token_counts([text[c.start : c.end] for c in checked])) <= embedder.max_tokens
    assert _covered([(c.start, c.end) for c in checked], text, 0, len(text))


def test_over_long_documents_through_a_real_build(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "giant.txt").write_text(_giant_sentence_doc())
    (corpus / "run.txt").write_text(_long_run_doc())
    report = build_index(corpus, tmp_path / "index", embedder, progress=False)
    assert report.errors == []
    data = load_index(tmp_path / "index")
    texts = [c.text for c in data.chunks] + [s.text for s in data.sentences]
    assert report.embedded_texts == len(texts)
    assert max(embedder.token_counts(texts)) <= embedder.max_tokens
    for item in [*data.chunks, *data.sentences]:
        assert data.documents[item.doc_id].text[item.start : item.end] == item.text


def test_chunking_config_validation() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        ChunkingConfig(max_tokens=4)
    with pytest.raises(ValueError, match="overlap"):
        ChunkingConfig(max_tokens=50, overlap_tokens=50)


# --- sentence splitting -------------------------------------------------------------------------


def test_sentence_splitting_keeps_abbreviations_and_offsets() -> None:
    text = "  Mr. Smith met Dr. Jones at 10 a.m. on Jan. 5. They talked! “Why?” she asked. (It rained.) Done"
    spans = split_sentences(text, 0, len(text))
    assert [text[s:e] for s, e in spans] == [
        "Mr. Smith met Dr. Jones at 10 a.m. on Jan. 5.",
        "They talked!",
        "“Why?” she asked.",
        "(It rained.)",
        "Done",
    ]


def test_sentence_splitting_is_linear_in_paragraph_length() -> None:
    # Regression: the abbreviation check searched all text before each period (quadratic: ~35 s here).
    text = " ".join(f"This is sentence number {i} about Mr. Smith." for i in range(3000))
    started = time.perf_counter()
    spans = split_sentences(text, 0, len(text))
    assert len(spans) == 3000
    assert time.perf_counter() - started < 2.0
