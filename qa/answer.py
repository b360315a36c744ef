"""The answer structure every interface returns (Python API, CLI, HTTP, evaluation)."""

from __future__ import annotations

import msgspec


class Citation(msgspec.Struct):
    """A checkable pointer: documents[doc_id].text[start:end] == quote."""

    index: int  # 1-based, matches the [n] markers in the reply text
    doc_id: str
    title: str
    date: str | None
    source: str | None
    chunk_id: int
    start: int
    end: int
    quote: str
    url: str | None = None


class Candidate(msgspec.Struct):
    answer: str
    sentence: str
    score: float
    citation: Citation


class RelatedPassage(msgspec.Struct):
    doc_id: str
    title: str
    date: str | None
    chunk_id: int
    start: int
    end: int
    text: str
    score: float


class Answer(msgspec.Struct):
    question: str
    resolved_question: str  # the question after follow-up resolution (what was searched)
    answer: str | None  # short answer span, verbatim from the first citation's document; None when abstaining
    sentence: str | None  # the supporting sentence(s), verbatim
    confidence: float
    abstained: bool
    answer_type: str  # date, person, amount, quote, location, sentence
    citations: list[Citation]
    reply: str  # chat reply rendered from prompts/, with [n] citation markers
    answer_start: int | None = None  # offsets of `answer` in the first citation's document
    answer_end: int | None = None
    candidates: list[Candidate] = msgspec.field(default_factory=list)
    related: list[RelatedPassage] = msgspec.field(default_factory=list)
    needs_clarification: bool = False
    note: str | None = None  # e.g. which of several dated sources was preferred
    timings_ms: dict[str, float] = msgspec.field(default_factory=dict)

    def to_dict(self) -> dict:
        return msgspec.to_builtins(self)
