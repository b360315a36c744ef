"""The hand-written reader behind the Reader interface: sentences ranked by meaning, words and answer type,
then a short span picked inside the best ones by phrasing rules (qa/reader.py, qa/spans.py)."""

from __future__ import annotations

import numpy as np

from index.store import IndexData
from qa.reader import rank_sentences, sentence_word_stems
from qa.reading import Question, ReadSpan
from qa.retrieval import Hit, Retriever
from qa.spans import trim_span

DEFAULT_THRESHOLD = 0.70  # the best F1 over the seed and heldout gold sets (BENCHMARKS.md)


class RuleReader:
    name = "rules"
    runtime = "python"  # regular expressions and BM25 weights, no model

    def __init__(self, index: IndexData, retriever: Retriever) -> None:
        self.index = index
        self.bm25 = retriever.bm25
        self._stems = sentence_word_stems(index)

    def threshold_for(self, style: str) -> float:
        return DEFAULT_THRESHOLD  # chosen on news sets only; never calibrated per style

    def with_index(self, index: IndexData, retriever: Retriever) -> RuleReader:
        return RuleReader(index, retriever)

    def read(self, question: Question, hits: list[Hit], query_vector: np.ndarray,
             every_passage: bool = False) -> list[ReadSpan]:  # fmt: skip
        ranked = rank_sentences(
            self.index, self.bm25, query_vector, question.text, question.context, question.qtype, hits, self._stems
        )
        out = []
        for s in ranked:
            sentence = self.index.sentences[s.sentence_id]
            whole = s.span is None
            start = sentence.start + (0 if whole else s.span.start)  # type: ignore[union-attr]
            end = sentence.start + (len(sentence.text) if whole else s.span.end)  # type: ignore[union-attr]
            doc_text = self.index.documents[sentence.doc_id].text
            start, end = trim_span(doc_text, start, end, whole=(start, end) == (sentence.start, sentence.end))
            out.append(
                ReadSpan(sentence.doc_id, sentence.chunk_id, start, end, s.sentence_id, s.sentence_id, s.score,
                         s.confidence, s.type_ok)
            )  # fmt: skip
        return out
