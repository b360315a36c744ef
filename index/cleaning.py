"""Boilerplate removal that never rewrites text: it only decides which stretches of the original to keep.

News pages scraped to text carry debris (ad markers, image credits, share buttons, comment forms,
copyright footers, unrelated "related stories"). Instead of producing a cleaned copy (which would lose
the way back to the original), `clean` returns the kept stretches as offsets into the original text, so
every chunk and sentence downstream can be cited as `original[start:end]`.

A byline ("Written by Keshaa Perry") is not debris: readers ask who wrote an article, so it is kept as text, and
the trained reader reads it with each passage of its article (qa/reader_passages.py).
"""

from __future__ import annotations

import re

from index.records import Paragraph

# The seeds' leading metadata line: " date YYYY-MM-DD" before the headline, on the same line.
DATE_PREFIX = re.compile(r"^\ufeff?\s*date\s+(\d{4}-\d{2}-\d{2})\s*")

_DROP_EXACT = {
    "advertisement",
    "article continues below advertisement",
    "story continues below advertisement",
    "view this post on instagram",
    "view this post on tiktok",
    "breaking news",
    "by:",
    "more on:",
    "opt-out of personalized ads",
    "share",
    "tweet",
    "comments",
}

_DROP_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^a post shared by\b",
        r"^source:\s*\S.{0,40}$",  # image credit line
        # An image caption ending in its credit ("Kim at the show source: Page Six"); not prose that names a
        # source and ends its sentence ("The data came from one source: the Treasury.").
        r"^.{0,120}\bsource:\s*[\w .!&'-]{0,29}[\w!&'-]$",
        # Share buttons ("Share on Twitter", "Link to FacebookShare to XShare to Email"): a short line that
        # begins with one; not prose that mentions a post ("In a post on X, Doe said ...").
        r"^(?!.{81})(?!.*[.?]$)(click to )?(share|link|post) (to|on) "
        r"(facebook|twitter|email|pinterest|whatsapp|linkedin|x\b)",
        r"^(©|\(c\)|copyright\s*(©|\(c\)|\d{4}))",  # not "Copyright lawsuits rose..."
        r"\ball rights reserved\b",
        r"your email address will not be published",
        r"required fields are marked",
        r"giphy app key not set",
        r"^save my name, email",
        r"^home\s*>",
        r"\bsign up here\b",
        r"\bsubscribe to (our|the) newsletter\b",
        r"^you may be interested in\b",
        r"^[A-Z][a-z]{2}\.? \d{1,2},? \d{4},? (published|updated)\b",  # datelines
        r"/\s*(getty images|shutterstock|ap photo|reuters|afp)\b",  # photo credits
        r"\((image|photo|picture) via [^)]*\)\s*$",
        r"^(?!.*[.!?]$).{0,25}\blogo\b",  # short "X Logo" lines
    )
]

# A byline line: "Written by Keshaa Perry", "By Ann Lee and Tom Ng, Staff Writers". The names are case-sensitive
# (the rest is IGNORECASE), so that a short paragraph such as "By Christmas everything changed." is not one.
_NAME = r"(?-i:[A-Z][\w.'-]*(\s+[A-Z][\w.'-]*){0,3})"
_BYLINE = re.compile(rf"^(written by|by)\s+{_NAME}(\s+and\s+{_NAME})?(,\s*{_NAME})?$", re.IGNORECASE)

# Everything after one of these lines is comment forms and unrelated stories.
_TAIL_MARKERS = re.compile(
    r"^(leave a reply|leave a comment|related stories|related articles|you may also like|read next)\s*:?$",
    re.IGNORECASE,
)

_LINE = re.compile(r"[^\n]*\n?")
_TERMINAL = re.compile(r"[.!?:\"”’')\]]$")


def _is_short_label(line: str, max_words: int) -> bool:
    """A short line without sentence punctuation: an image alt text, tag or masthead."""
    return len(line.split()) <= max_words and not _TERMINAL.search(line)


def is_boilerplate(line: str) -> bool:
    """True when a single stripped line is page debris by itself."""
    low = line.strip().lower()
    if not low:
        return False
    if low in _DROP_EXACT:
        return True
    return any(p.search(line.strip()) for p in _DROP_PATTERNS)


def is_byline(line: str) -> bool:
    """True when a single stripped line names the article's writer ("Written by ...", "By ...")."""
    return bool(_BYLINE.match(line.strip()))


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's stripped content; blank lines give an empty span."""
    spans = []
    for m in _LINE.finditer(text):
        if m.start() == m.end():
            break
        raw = m.group().rstrip("\n")
        lead = len(raw) - len(raw.lstrip())
        stripped = raw.strip()
        start = m.start() + lead
        spans.append((start, start + len(stripped)))
    return spans


def clean(text: str) -> list[Paragraph]:
    """Kept paragraphs (one per non-empty, non-debris line) with offsets into `text`.

    A paragraph's block number changes whenever debris was removed before it, so that chunks
    (which must be contiguous original text) never bridge removed material.
    """
    lines = _lines(text)
    keep = [end > start for start, end in lines]
    content = [text[s:e] for s, e in lines]

    # Leading metadata line: keep the headline that follows the date on the same line.
    if lines and (m := DATE_PREFIX.match(text)):
        s, e = lines[0]
        lines[0] = (max(s, m.end()), e)
        content[0] = text[lines[0][0] : e]
        keep[0] = lines[0][1] > lines[0][0]

    # Markdown front matter between leading '---' lines is metadata, not text.
    if content and content[0] == "---":
        for i in range(1, len(content)):
            if content[i] == "---":
                for j in range(i + 1):
                    keep[j] = False
                break

    # Masthead: short label lines at the very top, before the first real line.
    for i, line in enumerate(content):
        if not keep[i] or is_byline(line):  # a byline is kept, and is not the first real line either
            continue
        if _is_short_label(line, 3) or is_boilerplate(line):
            keep[i] = False
            continue
        break

    for i, line in enumerate(content):
        if not keep[i]:
            continue
        if _TAIL_MARKERS.match(line):
            for j in range(i, len(content)):
                keep[j] = False
            break
        if is_boilerplate(line):
            keep[i] = False
            # An image credit takes its alt-text line with it ("kim kardashian ballenciaga" / "Source: mega").
            prev = _previous_nonblank(content, i)
            if "source:" in line.lower() and prev is not None and keep[prev] and _is_short_label(content[prev], 12):
                keep[prev] = False
            if line.strip().lower() == "more on:":
                nxt = _next_nonblank(content, i)
                if nxt is not None and _is_short_label(content[nxt], 4):
                    keep[nxt] = False

    # Markdown headings and list markers are syntax, not text: trim them off the kept span.
    paragraphs: list[Paragraph] = []
    block = 0
    removed_since_last = False
    for i, (s, e) in enumerate(lines):
        if e <= s:
            continue
        if not keep[i]:
            removed_since_last = True
            continue
        m = re.match(r"(#{1,6}\s+|[-*+]\s+|>\s+)", content[i])
        if m:
            s += m.end()
        if e <= s:
            continue
        if removed_since_last and paragraphs:
            block += 1
        removed_since_last = False
        paragraphs.append(Paragraph(start=s, end=e, block=block))
    return paragraphs


def _previous_nonblank(content: list[str], i: int) -> int | None:
    for j in range(i - 1, -1, -1):
        if content[j]:
            return j
    return None


def _next_nonblank(content: list[str], i: int) -> int | None:
    for j in range(i + 1, len(content)):
        if content[j]:
            return j
    return None
