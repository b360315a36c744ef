"""The reader interface: the engine asks a Reader for scored answer spans over the retrieved passages and
builds answers and citations from them; nothing else in the engine knows how spans are found.

Readers (chosen by the `reader` setting, QA_READER / --reader):
- `trained`: a transformer fine-tuned for extractive QA (qa/span_reader.py, weights in models/reader);
- `rules`: the hand-written sentence ranker and span rules (qa/rule_reader.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qa.conversation import Message, resolve
from qa.spans import question_type

if TYPE_CHECKING:
    from index.store import IndexData
    from qa.retrieval import Hit, Retriever
    from qa.settings import Settings


_POSSESSIVE = {"his", "her", "their", "its"}


@dataclass(frozen=True)
class Question:
    """A question analysed once, for every part of the engine."""

    text: str  # as asked
    search_text: str  # what retrieval embeds and matches (follow-ups: with the turns they refer to)
    reader_text: str  # what a span reader reads: a follow-up's pronoun replaced by the name it points to
    context: str  # earlier turns folded in (empty when not a follow-up)
    qtype: str  # the asked-for kind of answer (date, person, amount, quote, location, names, sentence)
    unresolved_reference: str | None  # a pronoun with nothing earlier to point to


def analyse_question(question: str, history: Sequence[Message]) -> Question:
    resolved = resolve(question, history)
    reader_text = question
    if resolved.is_follow_up:
        entity = resolved.entity
        reader_text = _substitute_pronoun(question, entity) if entity else f"{question} {resolved.context}"
    return Question(
        text=question,
        search_text=resolved.search_text,
        reader_text=reader_text,
        context=resolved.context,
        qtype=question_type(question),
        unresolved_reference=resolved.unresolved_reference,
    )


def _substitute_pronoun(question: str, entity: str) -> str:
    """ "When did he apologize?" + "Demna" -> "When did Demna apologize?" (his/her -> "Demna's")."""
    m = re.search(r"\b(he|she|him|her|his|they|them|their|it|its)\b", question, re.I)
    if not m:
        return f"{question} {entity}"
    word = m.group(1).lower()
    name = f"{entity}\u2019s" if word in _POSSESSIVE and word != "her" else entity
    return question[: m.start()] + name + question[m.end() :]


@dataclass(frozen=True)
class ReadSpan:
    """A candidate answer: characters [start, end) of document doc_id, inside the cited sentences."""

    doc_id: str
    chunk_id: int
    start: int
    end: int
    sentence_id: int  # the first sentence holding the span (what its citation quotes from)
    last_sentence_id: int  # the last one (a span may run over a sentence boundary)
    score: float  # the reader's ranking score (comparable within one question)
    confidence: float  # 0..1; the engine abstains below the threshold
    type_ok: bool = True  # holds something of the asked type (the rule reader's check; trained: always)


class Reader(Protocol):
    name: str
    index: IndexData

    @property
    def runtime(self) -> str:
        """What computes its readings, for /health: e.g. "onnx-int8", "torch-bf16", "python"."""
        ...

    def threshold_for(self, style: str) -> float:
        """The calibrated abstention threshold of this reader's confidence on a corpus of `style`."""
        ...

    def read(self, question: Question, hits: list[Hit], query_vector: np.ndarray,
             every_passage: bool = False) -> list[ReadSpan]:  # fmt: skip
        """Scored spans over the retrieved passages, best first. `every_passage`: the caller wants alternatives
        (several candidates), so a reader that may stop early must read all it reads otherwise."""
        ...

    def with_index(self, index: IndexData, retriever: Retriever) -> Reader:
        """The same reader (its model shared, not reloaded) over another build of the index."""
        ...


def make_reader(settings: Settings, index: IndexData, retriever: Retriever) -> Reader:
    if settings.reader == "rules":
        from qa.rule_reader import RuleReader

        return RuleReader(index, retriever)
    from qa.settings import model_threads
    from qa.span_reader import SpanReader

    threads = settings.reader_threads or model_threads(settings.workers)
    return SpanReader(settings.reader_folder, index, threads=threads, passages=settings.passages_read,
                      precision=settings.reader_precision, confident=settings.reader_confident,
                      runtime=settings.reader_runtime, lanes=settings.reader_lanes)  # fmt: skip


def sentences_covering(index: IndexData, chunk_id: int, start: int, end: int) -> tuple[int, int]:
    """The first and last sentence of a chunk that overlap document characters [start, end)."""
    ids = index.chunk_sentence_ids[chunk_id]
    hit = [sid for sid in ids if index.sentences[sid].start < end and index.sentences[sid].end > start]
    if not hit:  # a span between sentences (whitespace): the nearest one before it
        before = [sid for sid in ids if index.sentences[sid].start <= start] or list(ids)
        return before[-1], before[-1]
    return hit[0], hit[-1]
