"""What the trained reader reads of a retrieved chunk, and the way back from its characters to the document's.

A chunk is read as it is, except that its article's byline ("Written by Keshaa Perry") follows it when the chunk
does not hold it (after the text, where most pages print it, so the model sees a sentence end before it): who
wrote an article is a fact about the whole article, and pages put the byline at one end, in a chunk that a
question about the article's subject rarely retrieves. The reader's text is then pieces of the document joined
by a blank line; the model is told where they meet (`seams`), and a span maps back to document offsets only
inside one piece, so every answer stays `document.text[start:end]`. Pure functions over the index's records.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.store import IndexData

SEPARATOR = "\n\n"  # between pieces: a paragraph break, as between the byline and the article on the page
MAX_BYLINES = 2  # a byline per writer; more lines than this are not one article's byline


@dataclass(frozen=True)
class Piece:
    at: int  # where the piece starts in the reader's text
    start: int  # its document characters [start, end)
    end: int
    chunk_id: int  # the chunk holding it (what the citation's sentences are looked up in)


@dataclass(frozen=True)
class ReaderPassage:
    doc_id: str
    text: str
    pieces: tuple[Piece, ...]

    @property
    def seams(self) -> tuple[int, ...]:
        """Reader characters where one piece ends and the next begins: no span may contain one."""
        return tuple(p.at for p in self.pieces[1:])

    def locate(self, start: int, end: int) -> tuple[int, int, int] | None:
        """(chunk_id, document start, document end) of the reader's characters [start, end); None when the
        span runs across two pieces (text that is not contiguous in the document)."""
        for p in self.pieces:
            if p.at <= start and end <= p.at + (p.end - p.start):
                return p.chunk_id, p.start + start - p.at, p.start + end - p.at
        return None


def reader_passage(index: IndexData, chunk_id: int) -> ReaderPassage:
    """The chunk's text, then its document's byline sentences that lie outside it (at most MAX_BYLINES)."""
    chunk = index.chunks[chunk_id]
    pieces, parts = [Piece(0, chunk.start, chunk.end, chunk_id)], [chunk.text]
    at = len(chunk.text) + len(SEPARATOR)
    for s in (index.sentences[i] for i in index.bylines.get(chunk.doc_id, ())[:MAX_BYLINES]):
        if chunk.start <= s.start and s.end <= chunk.end:
            continue  # the chunk already holds it, in its place
        pieces.append(Piece(at, s.start, s.end, s.chunk_id))
        parts.append(s.text)
        at += len(s.text) + len(SEPARATOR)
    return ReaderPassage(chunk.doc_id, SEPARATOR.join(parts), tuple(pieces))
