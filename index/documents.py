"""Reading a folder of articles (.txt, .md, .html, .jsonl) into Documents, reporting what it skips."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from index.cleaning import DATE_PREFIX, clean, is_byline
from index.records import Document, Paragraph

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm", ".jsonl"}


@dataclass
class CorpusReadResult:
    documents: list[Document] = field(default_factory=list)
    # The cleaner's kept paragraphs per doc_id, computed once here and reused for chunking.
    paragraphs: dict[str, list[Paragraph]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # unknown file types, by relative path
    errors: list[str] = field(default_factory=list)  # "file:line: what is wrong"


def content_hash(text: str, **metadata: str | None) -> str:
    h = hashlib.sha256(text.encode("utf-8"))
    h.update(json.dumps(metadata, sort_keys=True).encode())
    return h.hexdigest()


def read_corpus(corpus_dir: Path) -> CorpusReadResult:
    """Read every supported file under `corpus_dir`. A bad file is reported and never stops the others."""
    result = CorpusReadResult()
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    seen: dict[str, str] = {}
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(corpus_dir).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED:
            result.skipped.append(rel)
            continue
        try:
            docs = _read_file(path, rel)
        except DocumentError as exc:
            result.errors.append(str(exc))
            continue
        for parsed, line in docs:
            if isinstance(parsed, DocumentError):
                result.errors.append(str(parsed))
                continue
            doc, paragraphs = parsed
            if doc.doc_id in seen:
                result.errors.append(f"{rel}:{line}: duplicate document id {doc.doc_id!r} (also in {seen[doc.doc_id]})")
                continue
            seen[doc.doc_id] = rel
            result.documents.append(doc)
            result.paragraphs[doc.doc_id] = paragraphs
    return result


class DocumentError(Exception):
    """A file (or one line of a .jsonl file) that cannot be read as an article."""


def doc_id_for(rel: str, strip_suffix: bool = True) -> str:
    # Stable, URL-safe id from the file name (relative path without extension).
    # A .jsonl record's own id keeps its dots: "story.1" and "story.2" must not both become "story".
    stem = rel.rsplit(".", 1)[0] if strip_suffix else rel
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem.replace("/", "__")).strip("_") or "document"


def _decode(path: Path, rel: str) -> str:
    try:
        # "utf-8-sig": a byte order mark (Windows editors write one) is not text, and would hide front matter
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:  # unreadable file: report it, keep reading the others
        raise DocumentError(f"{rel}:1: cannot read file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{rel}:1: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc


Parsed = tuple[Document, list[Paragraph]]


def _read_file(path: Path, rel: str) -> list[tuple[Parsed | DocumentError, int]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path, rel)
    raw = _decode(path, rel)
    if suffix in {".html", ".htm"}:
        extracted = extract_html(raw)
        return [
            (
                _make_doc(
                    doc_id_for(rel),
                    extracted.text,
                    rel,
                    extracted.title,
                    extracted.date,
                    extracted.source,
                    extracted.url,
                ),
                1,
            )
        ]
    if not raw.strip():
        raise DocumentError(f"{rel}:1: file is empty")
    meta = _front_matter(raw) if suffix in {".md", ".markdown"} else {}
    return [
        (
            _make_doc(
                doc_id_for(rel),
                raw,
                rel,
                meta.get("title"),
                meta.get("date"),
                meta.get("source"),
                meta.get("url"),
            ),
            1,
        )
    ]


def _make_doc(
    doc_id: str, text: str, rel: str, title: str | None, date: str | None, source: str | None,
    url: str | None, where: str | None = None,
) -> Parsed:  # fmt: skip
    where = where or f"{rel}:1"  # "file:line" for error messages
    if date is None and (m := DATE_PREFIX.match(text)):
        date = m.group(1)
    if date is not None:
        date = _normalise_date(date, where)
    paragraphs = clean(text)
    # A byline is kept (index/cleaning.py) but is not an article, nor its title.
    story = [p for p in paragraphs if not is_byline(text[p.start : p.end])]
    if not story:
        raise DocumentError(f"{where}: no article text left after removing page debris")
    if not title:
        first = text[story[0].start : story[0].end]
        title = first if len(first) <= 160 else first[:157].rsplit(" ", 1)[0] + "..."
    source = source or _guess_source(text)
    doc = Document(
        doc_id=doc_id,
        title=title.strip(),
        text=text,
        date=date,
        source=source,
        url=url,
        path=rel,
        content_hash=content_hash(text, title=title, date=date, source=source, url=url),
    )
    return doc, paragraphs


def _normalise_date(value: str, where: str) -> str:
    m = re.match(r"^\s*(\d{4})-(\d{2})-(\d{2})", str(value))
    if not m:
        raise DocumentError(f"{where}: date {value!r} is not YYYY-MM-DD")
    date = "-".join(m.groups())
    try:
        datetime.date.fromisoformat(date)
    except ValueError:  # "2024-13-45" would sort after every real date and pass any date filter
        raise DocumentError(f"{where}: date {value!r} is not a calendar date") from None
    return date


def _guess_source(text: str) -> str | None:
    """The publication, where the page says it: a masthead line repeated at the top, or a copyright footer."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:3]
    if lines:
        first = DATE_PREFIX.sub("", lines[0]).strip()
        if len(lines) > 1 and first == lines[1] and len(first.split()) <= 4:
            return first
    m = re.search(r"©\s*(?:Copyright\s+)?\d{4}\s+([^.\n]{2,40}?)\.", text)
    return m.group(1).strip() if m else None


def _front_matter(raw: str) -> dict[str, str]:
    if not raw.startswith("---"):
        return {}
    end = raw.find("\n---", 3)
    if end < 0:
        return {}
    meta = {}
    for line in raw[3:end].splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta


def jsonl_lines(raw: str) -> list[str]:
    """A JSON Lines file's lines: split at "\n" only. JSON allows U+2028, U+2029 and U+0085 unescaped inside a
    string, where str.splitlines() would cut one record in two."""
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _read_jsonl(path: Path, rel: str) -> list[tuple[Parsed | DocumentError, int]]:
    raw = _decode(path, rel)
    out: list[tuple[Parsed | DocumentError, int]] = []
    for lineno, line in enumerate(jsonl_lines(raw), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append((DocumentError(f"{rel}:{lineno}: invalid JSON ({exc.msg})"), lineno))
            continue
        if not isinstance(record, dict):
            out.append((DocumentError(f"{rel}:{lineno}: expected a JSON object"), lineno))
            continue
        missing = [k for k in ("id", "title", "text") if not isinstance(record.get(k), str) or not record[k].strip()]
        if missing:
            out.append(
                (
                    DocumentError(f"{rel}:{lineno}: missing or empty string field(s): {', '.join(missing)}"),
                    lineno,
                )
            )
            continue
        # A non-string date/source/url would otherwise fail later, inside the store, and stop the whole build.
        wrong = [k for k in ("date", "source", "url") if not isinstance(record.get(k), str | None)]
        if wrong:
            out.append((DocumentError(f"{rel}:{lineno}: field(s) must be strings: {', '.join(wrong)}"), lineno))
            continue
        # JSON's "\ud800" escape decodes to half a character, which no UTF-8 store can hold: the same.
        broken = [k for k in ("id", "title", "text", "date", "source", "url") if _unpaired_surrogate(record.get(k))]
        if broken:
            out.append((DocumentError(f"{rel}:{lineno}: field(s) hold an unpaired UTF-16 surrogate escape "
                                      f"(not text): {', '.join(broken)}"), lineno))  # fmt: skip
            continue
        try:
            parsed = _make_doc(
                doc_id_for(record["id"], strip_suffix=False), record["text"], f"{rel}:{lineno}",
                record["title"], record.get("date"), record.get("source"), record.get("url"),
                where=f"{rel}:{lineno}",
            )  # fmt: skip
        except DocumentError as exc:
            out.append((exc, lineno))
            continue
        out.append((parsed, lineno))
    return out


def _unpaired_surrogate(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass
class ExtractedHtml:
    text: str
    title: str | None
    date: str | None
    source: str | None
    url: str | None


_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "header", "footer", "blockquote", "tr", "table", "figcaption", "pre", "hr", "main", "aside",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "nav", "iframe", "form", "button"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.in_title = False
        self.title = ""
        self.h1 = ""
        self.in_h1 = False
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "h1":
            self.in_h1 = True
        elif tag == "meta":
            a = {k: v or "" for k, v in attrs}
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and a.get("content"):
                self.meta[key] = a["content"]
        elif tag == "time":
            a = {k: v or "" for k, v in attrs}
            if a.get("datetime"):
                self.meta.setdefault("time", a["datetime"])
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self.skip:
            self.skip -= 1
        elif tag == "title":
            self.in_title = False
        elif tag == "h1":
            self.in_h1 = False
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self.skip:
            return
        if self.in_h1:
            self.h1 += data
        self.parts.append(data)


def extract_html(raw: str) -> ExtractedHtml:
    """Visible text of a page, one paragraph per block element; scripts, styles and navigation dropped."""
    parser = _TextExtractor()
    parser.feed(raw)
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    meta = parser.meta
    date = meta.get("article:published_time") or meta.get("date") or meta.get("datepublished") or meta.get("time")
    if date and not re.match(r"^\d{4}-\d{2}-\d{2}", date):
        date = None
    title = (parser.h1 or meta.get("og:title") or parser.title or "").strip() or None
    return ExtractedHtml(
        text=text,
        title=re.sub(r"\s+", " ", title) if title else None,
        date=date[:10] if date else None,
        source=meta.get("og:site_name"),
        url=meta.get("og:url"),
    )
