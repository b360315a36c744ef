"""Gold questions: our JSONL format, and the official SQuAD 1.1 / 2.0 JSON format (with its corpus).

Our format, one JSON object per line (blank lines and lines starting with // are ignored):

    {"id": "f-creative-director", "question": "Who is Balenciaga's creative director?",
     "answers": ["Demna", "Demna Gvasalia"], "doc_ids": ["000_898400add2b9d695"], "kind": "factoid"}

`answers` are acceptable short answers (empty for unanswerable questions), `doc_ids` the documents
that support them, `kind` one of KINDS, and follow-ups carry `history` as OpenAI-style messages.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

KINDS = ("factoid", "quote", "paraphrase", "temporal", "follow-up", "unanswerable")


class HistoryMessage(msgspec.Struct, forbid_unknown_fields=True):
    role: str
    content: str


class GoldSpan(msgspec.Struct, forbid_unknown_fields=True):
    """A gold paragraph: characters [start, end) of document doc_id."""

    doc_id: str
    start: int
    end: int


class GoldQuestion(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    id: str
    question: str
    answers: list[str]
    doc_ids: list[str] = msgspec.field(default_factory=list)
    kind: str = "factoid"
    history: list[HistoryMessage] = msgspec.field(default_factory=list)
    paragraphs: list[GoldSpan] = msgspec.field(default_factory=list)  # SQuAD: score retrieval per paragraph
    note: str | None = None  # why the question is in the set, or what makes it hard

    @property
    def has_answer(self) -> bool:
        return bool(self.answers)

    def history_dicts(self) -> list[dict[str, str]]:
        return [{"role": m.role, "content": m.content} for m in self.history]


class GoldError(ValueError):
    """A gold file that cannot be read; the message names the file and line."""


@dataclass
class SquadDocument:
    doc_id: str
    title: str
    text: str  # paragraphs joined with a blank line
    paragraphs: list[tuple[int, int]]  # (start, end) of each context in `text`


@dataclass
class GoldSet:
    name: str
    path: Path
    format: str  # "jsonl" or "squad"
    questions: list[GoldQuestion]
    documents: list[SquadDocument] = field(default_factory=list)  # the corpus, for SQuAD only
    given_paragraph: bool = False  # each question is asked of its own paragraph only (doc_ids filter)

    def corpus_hash(self) -> str:
        h = hashlib.sha256()
        for d in self.documents:
            h.update(json.dumps([d.doc_id, d.title, d.text]).encode())
        return h.hexdigest()[:12]


def read_gold(path: Path, per_paragraph: bool = False) -> GoldSet:
    """Read a gold file, telling SQuAD JSON from our JSONL by its content rather than its name.

    `per_paragraph` (SQuAD only): one document per paragraph, so a question can be asked of its own
    paragraph alone (SQuAD's own setting, as published readers are scored).
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"gold file not found: {path}") from None
    try:
        whole = json.loads(raw)
    except json.JSONDecodeError:
        whole = None  # JSONL (more than one line of JSON)
    if isinstance(whole, dict) and isinstance(whole.get("data"), list):
        return parse_squad(whole, path, per_paragraph)
    if per_paragraph:
        raise GoldError(f"{path}: asking each question of its own paragraph needs a SQuAD file")
    return parse_gold_jsonl(raw, path)


def parse_gold_jsonl(raw: str, path: Path) -> GoldSet:
    questions: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{path}:{lineno}"
        try:
            q = msgspec.json.decode(line, type=GoldQuestion)
        except msgspec.DecodeError as exc:
            raise GoldError(f"{where}: {exc}") from exc
        problem = _check(q)
        if problem:
            raise GoldError(f"{where}: {problem}")
        if q.id in seen:
            raise GoldError(f"{where}: duplicate id {q.id!r} (also on line {seen[q.id]})")
        seen[q.id] = lineno
        questions.append(q)
    if not questions:
        raise GoldError(f"{path}: no gold questions")
    return GoldSet(name=path.stem, path=path, format="jsonl", questions=questions)


def _check(q: GoldQuestion) -> str | None:
    if not q.id.strip():
        return "id is empty"
    if not q.question.strip():
        return "question is empty"
    if q.kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)} (got {q.kind!r})"
    if any(not a.strip() for a in q.answers):
        return "an answer is empty (unanswerable questions have answers: [])"
    if (q.kind == "unanswerable") != (not q.answers):
        return "unanswerable questions, and only they, have answers: []"
    if q.answers and not q.doc_ids:
        return "an answerable question needs doc_ids"
    if q.kind == "follow-up" and not q.history:
        return "a follow-up needs history"
    for m in q.history:
        if m.role not in {"system", "user", "assistant"}:
            return f"history role must be system, user or assistant (got {m.role!r})"
    return None


# -- SQuAD --------------------------------------------------------------------------------------------


def _slug(title: str) -> str:
    # Ids that index.documents keeps as they are (it rewrites anything outside [A-Za-z0-9._-]).
    return re.sub(r"[^A-Za-z0-9._-]+", "_", title).strip("_.-")[:60] or "article"


def parse_squad(data: dict[str, Any], path: Path, per_paragraph: bool = False) -> GoldSet:
    """SQuAD 1.1/2.0: one document per article, one gold question per question.

    Contexts are kept apart by a blank line so the indexer sees paragraph boundaries, and each gold
    question records its paragraph's span, for paragraph-level retrieval scoring.
    """
    documents: list[SquadDocument] = []
    questions: list[GoldQuestion] = []
    seen: set[str] = set()
    for ai, article in enumerate(data["data"]):
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise GoldError(f"{path}: data[{ai}] is not a SQuAD article (no paragraphs)")
        title = str(article.get("title") or f"article {ai}")
        doc_id = f"squad-{ai:03d}-{_slug(title)}"
        parts: list[str] = []
        spans: list[tuple[int, int]] = []
        offset = 0
        for pi, para in enumerate(article["paragraphs"]):
            context = para.get("context")
            if not isinstance(context, str) or not context.strip():
                raise GoldError(f"{path}: data[{ai}].paragraphs[{pi}] has no context")
            if per_paragraph:
                doc_id = f"squad-{ai:03d}-{pi:03d}-{_slug(title)}"
                documents.append(
                    SquadDocument(doc_id=doc_id, title=title, text=context, paragraphs=[(0, len(context))])
                )
                parts, spans, offset = [], [], 0
            if parts:
                offset += 2  # the "\n\n" joining paragraphs
            spans.append((offset, offset + len(context)))
            parts.append(context)
            offset += len(context)
            for qa in para.get("qas", []):
                qid = str(qa["id"])
                if qid in seen:
                    raise GoldError(f"{path}: duplicate question id {qid!r}")
                seen.add(qid)
                impossible = bool(qa.get("is_impossible")) or not qa.get("answers")
                answers = [] if impossible else list(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(
                    GoldQuestion(
                        id=qid,
                        question=qa["question"],
                        answers=answers,
                        doc_ids=[doc_id],
                        kind="unanswerable" if impossible else "factoid",
                        paragraphs=[GoldSpan(doc_id, spans[-1][0], spans[-1][1])],
                    )
                )
        if not per_paragraph:
            documents.append(SquadDocument(doc_id=doc_id, title=title, text="\n\n".join(parts), paragraphs=spans))
    if not questions:
        raise GoldError(f"{path}: no questions in the SQuAD file")
    name = path.stem + ("-given-paragraph" if per_paragraph else "")
    return GoldSet(name=name, path=path, format="squad", questions=questions, documents=documents,
                   given_paragraph=per_paragraph)  # fmt: skip


def write_squad_corpus(gold: GoldSet, corpus_dir: Path) -> Path:
    """Write the SQuAD articles as one .jsonl file of {id, title, text} that the indexer reads."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    out = corpus_dir / "squad.jsonl"
    lines = [json.dumps({"id": d.doc_id, "title": d.title, "text": d.text}, ensure_ascii=False) for d in gold.documents]
    content = "\n".join(lines) + "\n"
    # Rewrite only on change, so the incremental indexer and file times stay quiet on reruns.
    if not out.exists() or out.read_text(encoding="utf-8") != content:
        tmp = corpus_dir / ".squad.jsonl.tmp"  # hidden: the corpus reader skips it
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(out)
    return out
