"""The answering pipeline: models and index loaded once; per question, retrieval then the reader."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from index.build import refresh_index
from index.chunking import ChunkingConfig
from index.embedding import Embedder
from index.query_batching import QueryBatcher
from index.store import IndexData, load_index
from qa.answer import Answer, Candidate, Citation, RelatedPassage
from qa.conversation import Message, parse_history
from qa.errors import QuestionError
from qa.filters import Filters
from qa.reading import Reader, ReadSpan, analyse_question, make_reader
from qa.retrieval import Retriever
from qa.settings import Settings, model_threads
from qa.templates import Templates

_PAST = re.compile(
    r"\b(initially|originally|at first|at the time|back then|in the past|previously|earlier|used to|first|before|"
    r"(in|during|back in|of|by) (19|20)\d{2}|(19|20)\d{2}|last year|then)\b",
    re.I,
)
_RECENCY_MARGIN = 0.08  # candidates this close to the best are a tie that the newer source breaks


def load_embedder(settings: Settings) -> Embedder:
    """The embedding model the settings name, on their device and runtime (QA_MODEL_PATH, QA_DEVICE,
    QA_EMBED_RUNTIME), with the threads of one server process."""
    return Embedder(settings.model_path, settings.device, runtime=settings.embed_runtime,
                    threads=model_threads(settings.workers))  # fmt: skip


def refresh_for(settings: Settings, embedder: Embedder, progress: bool = False) -> None:
    """Build or refresh the settings' index from their corpus (what a server does before it serves)."""
    report = refresh_index(  # on a read-only folder: serves the index there, unrefreshed
        settings.corpus_dir,
        settings.index_dir,
        embedder,
        ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap),
        settings.index_type,
        progress=progress,
        wait=True,  # a server started beside another (or beside a shell build) waits, then refreshes
    )
    if progress and report is not None:
        print(report.summary(), file=sys.stderr)


class Engine:
    def __init__(self, settings: Settings, embedder: Embedder, index: IndexData, reader: Reader | None = None,
                 queries: QueryBatcher | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.retriever = Retriever(index)
        self.templates = Templates.load(settings.prompts_dir)
        # Concurrent questions share model calls; the batcher also serialises them (the tokenizer is not
        # thread-safe).
        self._queries = queries or QueryBatcher(embedder)
        if reader is None:
            self.reader = make_reader(settings, index, self.retriever)
        else:  # a reader made for another build: keep its model, read this one
            self.reader = reader if reader.index is index else reader.with_index(index, self.retriever)

    def with_index(self, index: IndexData) -> Engine:
        """An engine over another build of the index that shares this one's models and batcher: what a
        server swaps to when a new build is published (nothing is reloaded but the index)."""
        return Engine(self.settings, self.embedder, index, reader=self.reader, queries=self._queries)

    @property
    def threshold(self) -> float:
        """The abstention threshold in force: the setting, else the reader's calibrated one for the corpus style."""
        t = self.settings.abstain_threshold
        return self.reader.threshold_for(self.settings.corpus_style) if t is None else t

    @classmethod
    def load(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        build: bool | None = None,
        progress: bool = False,
    ) -> Engine:
        """Load the model and the index (building or refreshing it from the corpus first when `build`)."""
        embedder = embedder or load_embedder(settings)
        if settings.auto_build if build is None else build:
            refresh_for(settings, embedder, progress)
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
            threshold = self.threshold
        elif isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise QuestionError("threshold must be a number from 0 to 1")

        q = analyse_question(question, messages)
        t0 = time.perf_counter()
        qvec = self._queries.encode(q.search_text)
        t1 = time.perf_counter()
        hits = self.retriever.search(qvec, q.search_text, top_k, filters)
        t2 = time.perf_counter()
        ranked = self.reader.read(q, hits, qvec, every_passage=candidates > 1)
        t3 = time.perf_counter()

        related = [self._related(h.chunk_id, h.dense) for h in hits]
        best, note = self._prefer_recent(question, ranked)
        timings = {"embed_ms": (t1 - t0) * 1000, "search_ms": (t2 - t1) * 1000, "read_ms": (t3 - t2) * 1000}
        if best is None or best.confidence < threshold:
            confidence = best.confidence if best else 0.0
            if q.unresolved_reference:
                reply = self.templates.render("clarification", reference=q.unresolved_reference)
            else:
                reply = self.templates.render("no_answer", question=question, related=self._related_text(related))
            timings["total_ms"] = (time.perf_counter() - t_start) * 1000
            return Answer(
                question=question, resolved_question=q.search_text, answer=None, sentence=None,
                confidence=round(confidence, 4), abstained=True, answer_type=q.qtype, citations=[], reply=reply,
                related=related, needs_clarification=q.unresolved_reference is not None, timings_ms=timings,
            )  # fmt: skip

        first = self._citation(1, best)
        citations = [first]
        for other in self._supporting(best, ranked):
            citations.append(self._citation(len(citations) + 1, other))
        answer_text = self.index.documents[best.doc_id].text[best.start : best.end]
        reply = self.templates.render(
            "answer",
            answer=answer_text,
            sentence_quote=f"> {first.quote}" if answer_text != first.quote else "",
            note=note or "",
            sources="\n".join(self._source_line(c) for c in citations),
        )
        cands = self._candidates(ranked, candidates) if candidates > 1 else []
        timings["total_ms"] = (time.perf_counter() - t_start) * 1000
        return Answer(
            question=question, resolved_question=q.search_text, answer=answer_text, sentence=first.quote,
            confidence=round(best.confidence, 4), abstained=False, answer_type=q.qtype, citations=citations,
            reply=reply, answer_start=best.start, answer_end=best.end, candidates=cands, related=related, note=note,
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
    def _date_of(self, s: ReadSpan) -> str | None:
        return self.index.documents[s.doc_id].date

    def _prefer_recent(self, question: str, ranked: list[ReadSpan]) -> tuple[ReadSpan | None, str | None]:
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

    def _supporting(self, best: ReadSpan, ranked: list[ReadSpan]) -> list[ReadSpan]:
        """Up to two sentences from other documents saying the same thing (cited as corroboration)."""
        vecs = self.index.sentence_vectors
        seen_docs = {best.doc_id}
        out = []
        for s in ranked[:12]:
            doc = s.doc_id
            if doc in seen_docs:
                continue
            if float(vecs[s.sentence_id] @ vecs[best.sentence_id]) >= 0.8:
                out.append(s)
                seen_docs.add(doc)
            if len(out) == 2:
                break
        return out

    def _citation(self, n: int, span: ReadSpan) -> Citation:
        """The sentence(s) holding the span, quoted exactly: documents[doc_id].text[start:end] == quote."""
        doc = self.index.documents[span.doc_id]
        start = self.index.sentences[span.sentence_id].start
        end = self.index.sentences[span.last_sentence_id].end
        return Citation(
            index=n, doc_id=doc.doc_id, title=doc.title, date=doc.date, source=doc.source,
            chunk_id=span.chunk_id, start=start, end=end, quote=doc.text[start:end], url=doc.url,
        )  # fmt: skip

    def _candidates(self, ranked: list[ReadSpan], n: int) -> list[Candidate]:
        out: list[Candidate] = []
        seen: set[str] = set()
        for s in ranked:
            text = self.index.documents[s.doc_id].text[s.start : s.end]
            key = text.lower().strip(" .,\u201c\u201d\"'")
            if key in seen:
                continue
            seen.add(key)
            citation = self._citation(len(out) + 1, s)
            out.append(Candidate(answer=text, sentence=citation.quote, score=round(s.confidence, 4), citation=citation))
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
