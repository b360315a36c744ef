"""The answering pipeline: model and index loaded once, then one model call per question."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from index.build import build_index
from index.chunking import ChunkingConfig
from index.embedding import Embedder
from index.query_batching import QueryBatcher
from index.records import Sentence
from index.store import IndexData, load_index
from qa.answer import Answer, Candidate, Citation, RelatedPassage
from qa.conversation import Message, parse_history, resolve
from qa.errors import QuestionError
from qa.filters import Filters
from qa.reader import ScoredSentence, rank_sentences, sentence_word_stems
from qa.retrieval import Retriever
from qa.settings import Settings
from qa.spans import question_type, trim_span
from qa.templates import Templates

_PAST = re.compile(
    r"\b(initially|originally|at first|at the time|back then|in the past|previously|earlier|used to|first|before|"
    r"(in|during|back in|of|by) (19|20)\d{2}|(19|20)\d{2}|last year|then)\b",
    re.I,
)
_RECENCY_MARGIN = 0.08  # candidates this close to the best are a tie that the newer source breaks


class Engine:
    def __init__(self, settings: Settings, embedder: Embedder, index: IndexData) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.retriever = Retriever(index)
        self.templates = Templates.load(settings.prompts_dir)
        # Concurrent questions share model calls; the batcher also serialises them (the tokenizer is not
        # thread-safe).
        self._queries = QueryBatcher(embedder)
        self._stems = sentence_word_stems(index)

    @classmethod
    def load(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        build: bool | None = None,
        progress: bool = False,
    ) -> Engine:
        """Load the model and the index (building or refreshing it from the corpus first when `build`)."""
        embedder = embedder or Embedder(settings.model_path, settings.device)
        if settings.auto_build if build is None else build:
            report = build_index(
                settings.corpus_dir,
                settings.index_dir,
                embedder,
                ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap),
                settings.index_type,
                progress=progress,
            )
            if progress:
                print(report.summary(), file=sys.stderr)
        index = load_index(settings.index_dir, expect_model_id=embedder.model_id, expect_dimension=embedder.dimension)
        return cls(settings, embedder, index)

    # -- the entry point ---------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[Message | dict[str, Any]] | None = None,
        top_k: int | None = None,
        filters: Filters | dict[str, Any] | None = None,
        candidates: int = 1,
        threshold: float | None = None,
    ) -> Answer:
        t_start = time.perf_counter()
        question = self._check_question(question)
        messages = parse_history(history, self.settings.max_history_messages)
        filters = self._check_filters(filters)
        top_k = self._check_top_k(top_k)
        if not isinstance(candidates, int) or not 1 <= candidates <= 20:
            raise QuestionError("candidates must be an integer from 1 to 20")
        if threshold is None:
            threshold = self.settings.abstain_threshold
        elif isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise QuestionError("threshold must be a number from 0 to 1")

        resolved = resolve(question, messages)
        t0 = time.perf_counter()
        qvec = self._queries.encode(resolved.search_text)
        t1 = time.perf_counter()
        hits = self.retriever.search(qvec, resolved.search_text, top_k, filters)
        qtype = question_type(question)
        ranked = rank_sentences(
            self.index, self.retriever.bm25, qvec, question, resolved.context, qtype, hits, self._stems
        )
        t2 = time.perf_counter()

        related = [self._related(h.chunk_id, h.dense) for h in hits]
        best, note = self._prefer_recent(question, ranked)
        timings = {"embed_ms": (t1 - t0) * 1000, "search_and_read_ms": (t2 - t1) * 1000}
        if best is None or best.confidence < threshold:
            confidence = best.confidence if best else 0.0
            if resolved.unresolved_reference:
                reply = self.templates.render("clarification", reference=resolved.unresolved_reference)
            else:
                reply = self.templates.render("no_answer", question=question, related=self._related_text(related))
            timings["total_ms"] = (time.perf_counter() - t_start) * 1000
            return Answer(
                question=question, resolved_question=resolved.search_text, answer=None, sentence=None,
                confidence=round(confidence, 4), abstained=True, answer_type=qtype, citations=[], reply=reply,
                related=related, needs_clarification=resolved.unresolved_reference is not None, timings_ms=timings,
            )  # fmt: skip

        sentence = self.index.sentences[best.sentence_id]
        span = best.span
        a_start = sentence.start + (span.start if span else 0)
        a_end = sentence.start + (span.end if span else len(sentence.text))
        doc_text = self.index.documents[sentence.doc_id].text
        a_start, a_end = trim_span(doc_text, a_start, a_end, whole=(a_start, a_end) == (sentence.start, sentence.end))
        citations = [self._citation(1, sentence)]
        for other in self._supporting(best, ranked):
            citations.append(self._citation(len(citations) + 1, self.index.sentences[other.sentence_id]))
        answer_text = doc_text[a_start:a_end]
        reply = self.templates.render(
            "answer",
            answer=answer_text,
            sentence_quote=f"> {sentence.text}" if answer_text != sentence.text else "",
            note=note or "",
            sources="\n".join(self._source_line(c) for c in citations),
        )
        cands = self._candidates(ranked, candidates) if candidates > 1 else []
        timings["total_ms"] = (time.perf_counter() - t_start) * 1000
        return Answer(
            question=question, resolved_question=resolved.search_text, answer=answer_text, sentence=sentence.text,
            confidence=round(best.confidence, 4), abstained=False, answer_type=qtype, citations=citations,
            reply=reply, answer_start=a_start, answer_end=a_end, candidates=cands, related=related, note=note,
            timings_ms=timings,
        )  # fmt: skip

    # -- validation --------------------------------------------------------------------------------------
    def _check_question(self, question: Any) -> str:
        if not isinstance(question, str):
            raise QuestionError("question must be a string")
        question = question.strip()
        if not question:
            raise QuestionError("question is empty")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"question is {len(question)} characters long; the limit is {self.settings.max_question_chars}"
            )
        return question

    def _check_filters(self, filters: Filters | dict[str, Any] | None) -> Filters | None:
        if filters is None:
            return None
        if isinstance(filters, dict):
            import msgspec

            try:
                filters = msgspec.convert(filters, Filters)
            except msgspec.ValidationError as exc:
                raise QuestionError(f"filters: {exc}") from exc
        return filters.validate(set(self.index.documents))

    def _check_top_k(self, top_k: Any) -> int:
        if top_k is None:
            return self.settings.top_k
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= self.settings.max_top_k:
            raise QuestionError(f"top_k must be an integer from 1 to {self.settings.max_top_k}")
        return top_k

    # -- choosing and citing -----------------------------------------------------------------------------
    def _date_of(self, s: ScoredSentence) -> str | None:
        return self.index.documents[self.index.sentences[s.sentence_id].doc_id].date

    def _prefer_recent(self, question: str, ranked: list[ScoredSentence]) -> tuple[ScoredSentence | None, str | None]:
        """News changes over time: among near-equal answers, prefer the most recent source, and say so."""
        if not ranked:
            return None, None
        best = ranked[0]
        vecs = self.index.sentence_vectors
        # Only answers to the same thing compete on date: similar statements, near-equal scores.
        close = [
            s
            for s in ranked[:8]
            if s.score >= best.score - _RECENCY_MARGIN
            and s.type_ok
            and self._date_of(s)
            and float(vecs[s.sentence_id] @ vecs[best.sentence_id]) >= 0.5
        ]
        dates = {self._date_of(s) for s in close}
        if len(dates) < 2:
            return best, None
        if _PAST.search(question):
            return best, None
        newest = max(close, key=lambda s: (self._date_of(s) or "", s.score))
        older = min(close, key=lambda s: self._date_of(s) or "")
        chosen = newest if (self._date_of(newest) or "") > (self._date_of(best) or "") else best
        older_sentence = self.index.sentences[older.sentence_id]
        note = (
            f"Sources differ over time; this answer follows the most recent one ({self._date_of(chosen)}). "
            f"An earlier article ({self._date_of(older)}) said: \u201c{older_sentence.text}\u201d"
        )
        return chosen, note

    def _supporting(self, best: ScoredSentence, ranked: list[ScoredSentence]) -> list[ScoredSentence]:
        """Up to two sentences from other documents saying the same thing (cited as corroboration)."""
        vecs = self.index.sentence_vectors
        first_doc = self.index.sentences[best.sentence_id].doc_id
        seen_docs = {first_doc}
        out = []
        for s in ranked[:12]:
            doc = self.index.sentences[s.sentence_id].doc_id
            if doc in seen_docs:
                continue
            if float(vecs[s.sentence_id] @ vecs[best.sentence_id]) >= 0.8:
                out.append(s)
                seen_docs.add(doc)
            if len(out) == 2:
                break
        return out

    def _citation(self, n: int, sentence: Sentence) -> Citation:
        doc = self.index.documents[sentence.doc_id]
        return Citation(
            index=n, doc_id=doc.doc_id, title=doc.title, date=doc.date, source=doc.source,
            chunk_id=sentence.chunk_id, start=sentence.start, end=sentence.end,
            quote=doc.text[sentence.start : sentence.end], url=doc.url,
        )  # fmt: skip

    def _candidates(self, ranked: list[ScoredSentence], n: int) -> list[Candidate]:
        out: list[Candidate] = []
        seen: set[str] = set()
        for s in ranked:
            sentence = self.index.sentences[s.sentence_id]
            span = s.span
            text = sentence.text[span.start : span.end] if span else sentence.text
            key = text.lower().strip(" .,\u201c\u201d\"'")
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Candidate(answer=text, sentence=sentence.text, score=round(s.confidence, 4),
                          citation=self._citation(len(out) + 1, sentence))
            )  # fmt: skip
            if len(out) == n:
                break
        return out

    def _related(self, chunk_id: int, score: float) -> RelatedPassage:
        chunk = self.index.chunks[chunk_id]
        doc = self.index.documents[chunk.doc_id]
        return RelatedPassage(
            doc_id=doc.doc_id, title=doc.title, date=doc.date, chunk_id=chunk_id, start=chunk.start, end=chunk.end,
            text=chunk.text, score=round(score, 4),
        )  # fmt: skip

    @staticmethod
    def _source_line(c: Citation) -> str:
        meta = ", ".join(x for x in (c.source, c.date) if x)
        return f"[{c.index}] {c.title}" + (f" ({meta})" if meta else "") + f" \u2014 characters {c.start}\u2013{c.end}"

    @staticmethod
    def _related_text(related: list[RelatedPassage]) -> str:
        if not related:
            return ""
        lines = ["Closest passages:"]
        for r in related[:3]:
            snippet = r.text if len(r.text) <= 200 else r.text[:197].rsplit(" ", 1)[0] + "..."
            lines.append(f"- {r.title}" + (f" ({r.date})" if r.date else "") + f": {snippet}")
        return "\n".join(lines)
