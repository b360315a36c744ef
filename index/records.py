"""Plain records shared by ingestion, the store and the answering side."""

from __future__ import annotations

import msgspec


class Document(msgspec.Struct, frozen=True):
    """One article. `text` is the original text; every offset in the system points into it."""

    doc_id: str
    title: str
    text: str
    date: str | None = None  # ISO YYYY-MM-DD
    source: str | None = None
    url: str | None = None
    path: str | None = None
    content_hash: str = ""


class Paragraph(msgspec.Struct, frozen=True):
    """A kept stretch of original text. Paragraphs in different blocks were separated by removed debris."""

    start: int
    end: int
    block: int


class Chunk(msgspec.Struct, frozen=True):
    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str  # == document.text[start:end]


class Sentence(msgspec.Struct, frozen=True):
    sentence_id: int
    doc_id: str
    chunk_id: int  # the first chunk that holds it (chunks overlap)
    start: int
    end: int
    text: str  # == document.text[start:end]
