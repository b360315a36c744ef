"""Turning a span model's start/end logits into character spans. Pure numpy: shared by training-time
evaluation and the reader, and testable without a model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_ANSWER_TOKENS = 30  # longer spans are whole passages, not answers (SQuAD's answers rarely exceed 20)
TOP_N = 20  # start and end positions considered per window (as in the reference SQuAD post-processing)


@dataclass(frozen=True)
class WindowSpan:
    """A span in one window, in characters of the window's passage text."""

    start: int
    end: int
    score: float  # start logit + end logit
    null_score: float  # the window's no-answer score (start and end on [CLS])


def decode_window(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int] | None],
    top_n: int = TOP_N,
    max_answer_tokens: int = MAX_ANSWER_TOKENS,
    seams: Sequence[int] = (),
) -> list[WindowSpan]:
    """Best spans of one window, best first.

    `offsets[i]` is the passage character range of token i, or None for tokens outside the passage (the
    question, special tokens, padding); position 0 holds [CLS], whose logits score "no answer". `seams`: passage
    characters where two stretches of text that are not contiguous in the document meet; no span contains one.
    """
    null = float(start_logits[0] + end_logits[0])
    n = min(len(offsets), len(start_logits))
    in_passage = np.array([offsets[i] is not None for i in range(n)])
    if not in_passage.any():
        return []
    s_logits = np.where(in_passage, start_logits[:n], -np.inf)
    e_logits = np.where(in_passage, end_logits[:n], -np.inf)
    starts = np.argsort(-s_logits)[:top_n]
    ends = np.argsort(-e_logits)[:top_n]
    out: list[WindowSpan] = []
    for s in starts:
        if not np.isfinite(s_logits[s]):
            break
        for e in ends:
            if not np.isfinite(e_logits[e]) or e < s or e - s + 1 > max_answer_tokens:
                continue
            a, b = offsets[s], offsets[e]
            assert a is not None and b is not None
            if b[1] <= a[0] or any(a[0] < seam < b[1] for seam in seams):
                continue
            out.append(WindowSpan(a[0], b[1], float(s_logits[s] + e_logits[e]), null))
    out.sort(key=lambda w: -w.score)
    return out


def passage_offsets(
    offset_mapping: Sequence[tuple[int, int]], sequence_ids: Sequence[int | None], passage_sequence: int = 1
) -> list[tuple[int, int] | None]:
    """A fast tokenizer's offsets, kept for the passage's tokens only (None elsewhere)."""
    return [
        (int(o[0]), int(o[1])) if sid == passage_sequence and o[1] > o[0] else None
        for o, sid in zip(offset_mapping, sequence_ids, strict=True)
    ]
