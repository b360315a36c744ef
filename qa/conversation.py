"""Multi-turn chat: validating OpenAI-style history and resolving follow-up questions against it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qa.errors import QuestionError

ROLES = {"system", "user", "assistant"}
_ANAPHORA = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|theirs|it|its|this|that|these|those|there|then|the same)\b",
    re.I,
)
_FOLLOW_UP_OPENERS = re.compile(r"^\s*(and|also|what about|how about|then|so)\b", re.I)
_MARKERS = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Resolved:
    question: str  # what the person asked this turn
    search_text: str  # what retrieval embeds and matches: the question plus the turns it refers to
    context: str  # the earlier turns' text used (empty when not a follow-up)
    is_follow_up: bool
    unresolved_reference: str | None  # a pronoun with nothing earlier to point to
    entity: str | None = None  # the name an earlier answer gave, that this turn's pronoun refers to


def parse_history(history: Sequence[Any] | None, max_messages: int) -> list[Message]:
    """OpenAI-convention messages -> Messages; a clear QuestionError for anything malformed."""
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise QuestionError("history must be a list of {role, content} messages")
    if len(history) > max_messages:
        raise QuestionError(f"history has {len(history)} messages; the limit is {max_messages}")
    out = []
    for i, m in enumerate(history):
        if isinstance(m, Message):
            out.append(m)
            continue
        if not isinstance(m, dict):
            raise QuestionError(f"history[{i}] must be an object with role and content")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise QuestionError(f"history[{i}].role must be one of system, user, assistant (got {role!r})")
        if not isinstance(content, str):
            raise QuestionError(f"history[{i}].content must be a string")
        out.append(Message(role=role, content=content))
    return out


def _short(reply: str) -> str:
    """The answer part of one of our replies (its first paragraph), without [n] markers."""
    first = reply.strip().split("\n\n", 1)[0]
    return _MARKERS.sub("", first)[:300].strip()


def _named_before(question: str, end: int) -> bool:
    """Whether the question names someone or something before character `end`: a capitalised word that is not
    its first word ("Kim Kardashian" in "What did Kim Kardashian say about her ...")."""
    words = list(re.finditer(r"[\w’'!.-]+", question[:end]))
    return any(w.group()[:1].isupper() and w.group() != "I" for w in words[1:])


def _leans_on_earlier(question: str) -> bool:
    """Openers like "and what about", a pronoun with nothing named before it in the question ("How did he
    apologize?", not "What did Kim say about her deal?"), or a bare fragment that names nothing ("When?", not
    "Who owns Balenciaga?"): meaning lives in an earlier turn. In a chat every question comes with the earlier
    turns, so one that stands on its own must not take them in (they pulled retrieval to the earlier topic)."""
    if _FOLLOW_UP_OPENERS.match(question):
        return True
    if any(not _named_before(question, m.start()) for m in _ANAPHORA.finditer(question)):
        return True
    return len(question.split()) <= 3 and not _named_before(question, len(question))


def resolve(question: str, history: Sequence[Message]) -> Resolved:
    """Fold the last exchange(s) into the search text when the question leans on them.

    Follow-ups ("How did he apologize?", "How much was it for?") carry pronouns or openers whose
    meaning lives in the previous turn; the earlier question and our answer to it are added to what is
    searched, so retrieval finds the passage about the same person or thing.
    """
    turns: list[tuple[str, str]] = []  # (user question, assistant answer) pairs, oldest first
    pending: str | None = None
    for m in history:
        if m.role == "user":
            if pending is not None:
                turns.append((pending, ""))
            pending = m.content.strip()
        elif m.role == "assistant" and pending is not None:
            turns.append((pending, _short(m.content)))
            pending = None
    if pending is not None:
        turns.append((pending, ""))

    # The first pronoun that nothing named before it in the question accounts for
    pronoun = next((m for m in _ANAPHORA.finditer(question) if not _named_before(question, m.start())), None)
    leans = _leans_on_earlier(question)
    if not turns:
        unresolved = (
            pronoun.group(1)
            if pronoun and pronoun.group(1).lower() in {"he", "she", "him", "his", "they", "them"}
            else None
        )
        return Resolved(question, question, "", False, unresolved)
    if not leans:
        return Resolved(question, question, "", False, None)
    # The most recent exchange first; an older one only while the newer questions were follow-ups too
    # ("Who is the creative director?" -> "How did he apologize?" -> "When?"), so an earlier, unrelated
    # topic never leaks into a new one.
    used = [turns[-1]]
    for earlier in reversed(turns[:-1]):
        if not _leans_on_earlier(used[-1][0]) or len(used) == 3:
            break
        used.append(earlier)
    context = " ".join(f"{q} {a}".strip() for q, a in reversed(used))
    entity = _named_answer(used[0][1])
    if entity and pronoun:
        # "Newyork Verified." then "How did it reach her?": the pronoun is that name; the earlier question's
        # other words (a photographer, a teddy bear ad) would pull the search back to the earlier passage.
        return Resolved(question, f"{question} {entity}", context, True, None, entity)
    return Resolved(question, f"{question} {context}", context, True, None)


def _named_answer(answer: str) -> str | None:
    """The name an answer consists of ("Newyork Verified.", "Platon", "Demna, the brand’s creative director"),
    or None when the answer is more than a name."""
    head = answer.split(",", 1)[0].strip().rstrip(".")
    words = head.split()
    if not 1 <= len(words) <= 4 or not all(w[:1].isupper() for w in words if w.lower() not in {"de", "van", "von"}):
        return None
    return head
