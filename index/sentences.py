"""Sentence splitting over offsets: sentences are (start, end) spans of the original text."""

from __future__ import annotations

import re
from collections.abc import Callable

# A boundary: terminal punctuation, any closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?]+[\"”’')\]]*(?=\s+)")
# What may begin the next sentence: a capital, digit, or an opening quote/bracket.
_NEXT_START = re.compile(r"\s+[\"“‘'(\[]?[A-Z0-9]")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "no", "gen", "gov", "sen", "rep", "lt", "col", "capt", "mt", "ft", "u.s", "u.k", "e.g", "i.e",
    "a.m", "p.m",
}  # fmt: skip


_LAST_WORD = re.compile(r"([\w.]+)$")


def _ends_with_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation or an initial ("J. Smith")."""
    # Look back a bounded window only: searching all of text[:dot] made splitting quadratic in the
    # paragraph length (minutes for a 100 KB paragraph). A longer word is no abbreviation either way.
    m = _LAST_WORD.search(text, max(0, dot - 64), dot)
    if not m:
        return False
    word = m.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha() and word.isupper() is False)


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split text[start:end] (one paragraph) into sentence spans, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        cut = m.end()
        nxt = _NEXT_START.match(text, cut, end)
        if not nxt:
            continue
        if text[m.start()] == "." and m.end() - m.start() == 1 and _ends_with_abbreviation(text, m.start()):
            continue
        spans.append((cursor, cut))
        cursor = cut
    spans.append((cursor, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def split_to_fit(text: str, start: int, end: int, fits: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Cut an over-long span at whitespace into the fewest pieces for which `fits(piece_text)` holds."""
    if fits(text[start:end]):
        return [(start, end)]
    cuts = [m.start() for m in re.finditer(r"\s+", text[start:end])]
    if not cuts:
        # One unbreakable token run: halve it by characters, the only option left.
        mid = start + (end - start) // 2
        return split_to_fit(text, start, mid, fits) + split_to_fit(text, mid, end, fits)
    mid_rel = min(cuts, key=lambda c: abs(c - (end - start) // 2))
    left_end = start + mid_rel
    right_start = left_end
    while right_start < end and text[right_start].isspace():
        right_start += 1
    return split_to_fit(text, start, left_end, fits) + split_to_fit(text, right_start, end, fits)
