"""Adding, replacing and deleting documents in the corpus folder, each change atomic on disk.

The corpus folder stays the one source of truth (a rebuild reads it as it reads any folder). Every file is
written under a hidden temporary name (which `read_corpus` ignores), flushed, then renamed into place, so a
crash leaves the old file or the new one (both, for a one-document file replaced by its JSON Lines record),
never neither; one change at a time, across processes too (`.qa-corpus.lock`, hidden). A document given as JSON
is stored as a one-line JSON Lines file `<id>.jsonl`, the format that keeps every field; an uploaded file keeps
its own name and format.
Everything is parsed with the same reader the index build uses before anything is written, so a file the
build would reject is refused here with the build's own message.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.documents import SUPPORTED, doc_id_for, jsonl_lines, read_corpus
from index.records import Document
from index.store import fsync_path

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_lock = threading.Lock()  # one change at a time within a process: a change reads, then writes, the folder
LOCK_FILE = ".qa-corpus.lock"  # hidden, so never read as an article


@contextmanager
def _changing(corpus_dir: Path) -> Iterator[None]:
    """One change at a time on the folder: across threads (the lock) and across processes (an flock on a file
    in it: QA_WORKERS > 1 serve document writes from every worker, and each change reads the folder, then
    writes it, so two at once would lose one of them). The kernel drops the flock if a process dies."""
    with _lock:
        try:
            fd: int | None = os.open(corpus_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            fd = None  # a folder this process cannot write: the change itself fails and says so
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            if fd is not None:
                os.close(fd)


class CorpusChangeError(Exception):
    """A change that cannot be made: `status` is the HTTP status that says why (400, 404, 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Location:
    rel: str  # file, relative to the corpus folder
    line: int | None  # the line of a JSON Lines record; None for a one-document file


@dataclass(frozen=True)
class NewDocument:
    text: str
    title: str | None = None
    date: str | None = None
    source: str | None = None
    url: str | None = None


def locate(corpus_dir: Path) -> dict[str, Location]:
    """Where each document id of the folder lives, by the build's own naming rules, without parsing texts."""
    out: dict[str, Location] = {}
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(corpus_dir).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts) or path.suffix.lower() not in SUPPORTED:
            continue
        if path.suffix.lower() != ".jsonl":
            out.setdefault(doc_id_for(rel), Location(rel, None))
            continue
        try:
            lines = jsonl_lines(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            continue
        for lineno, line in enumerate(lines, start=1):
            try:
                record = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                out.setdefault(doc_id_for(record["id"], strip_suffix=False), Location(rel, lineno))
    return out


def parse_file(name: str, data: bytes) -> list[Document]:
    """The documents an uploaded file holds, exactly as the build would read them; 400 if it would not."""
    name = _check_file_name(name)
    with tempfile.TemporaryDirectory(prefix="qa-upload-") as tmp:
        (Path(tmp) / name).write_bytes(data)
        result = read_corpus(Path(tmp))
    if result.errors:
        raise CorpusChangeError(400, "; ".join(result.errors))
    if not result.documents:
        raise CorpusChangeError(400, f"{name}: no document in the file")
    return result.documents


def add_file(corpus_dir: Path, name: str, data: bytes) -> list[Document]:
    """Store an uploaded .txt/.md/.html/.jsonl file under its own name; its documents must all be new."""
    docs = parse_file(name, data)
    with _changing(corpus_dir):
        target = corpus_dir / name
        if target.exists():
            raise CorpusChangeError(409, f"a file named {name!r} is already in the corpus; PUT "
                                         "/api/documents/{id} replaces a document")  # fmt: skip
        _refuse_known_ids(corpus_dir, [d.doc_id for d in docs])
        _atomic_write(target, data)
    return docs


def add_document(corpus_dir: Path, doc: NewDocument, doc_id: str | None = None) -> Document:
    """Store a new document given as fields; a missing id is made up."""
    with _changing(corpus_dir):
        known = locate(corpus_dir)
        if doc_id is None:
            doc_id = f"doc-{uuid.uuid4().hex[:12]}"
        _check_id(doc_id)
        if doc_id in known:
            raise CorpusChangeError(409, f"document id {doc_id!r} already exists; PUT /api/documents/{doc_id} "
                                         "replaces it")  # fmt: skip
        data, parsed = _record_bytes(doc_id, doc)
        _atomic_write(_free_name(corpus_dir, doc_id), data)
    return parsed


def replace_document(corpus_dir: Path, doc_id: str, doc: NewDocument) -> Document:
    """Replace an existing document's text and fields (stored as JSON Lines from then on)."""
    with _changing(corpus_dir):
        where = _find(corpus_dir, doc_id)
        data, parsed = _record_bytes(doc_id, doc)
        path = corpus_dir / where.rel
        if where.line is not None:  # a record among others: rewrite that line, the rest byte for byte
            lines = jsonl_lines(path.read_text(encoding="utf-8-sig"))
            lines[where.line - 1] = data.decode("utf-8").rstrip("\n")
            _atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))
        else:
            # The new file is in place before the old one goes: a crash in between leaves both (a build then
            # keeps one and reports the duplicate id), never neither.
            _atomic_write(_free_name(path.parent, doc_id), data)
            path.unlink()
            fsync_path(path.parent)
    return parsed


def delete_document(corpus_dir: Path, doc_id: str) -> None:
    with _changing(corpus_dir):
        where = _find(corpus_dir, doc_id)
        path = corpus_dir / where.rel
        if where.line is None:
            path.unlink()
            fsync_path(path.parent)
            return
        lines = jsonl_lines(path.read_text(encoding="utf-8-sig"))
        del lines[where.line - 1]
        if any(line.strip() for line in lines):
            _atomic_write(path, ("\n".join(lines) + "\n").encode("utf-8"))
        else:
            path.unlink()
            fsync_path(path.parent)


# -- helpers ------------------------------------------------------------------------------------------------


def _find(corpus_dir: Path, doc_id: str) -> Location:
    where = locate(corpus_dir).get(doc_id)
    if where is None:
        raise CorpusChangeError(404, f"unknown document id: {doc_id!r}")
    return where


def _refuse_known_ids(corpus_dir: Path, ids: list[str]) -> None:
    known = locate(corpus_dir)
    clash = [i for i in ids if i in known]
    if clash:
        raise CorpusChangeError(409, f"document id(s) already in the corpus: {', '.join(clash)}; PUT "
                                     "/api/documents/{id} replaces a document")  # fmt: skip


def _check_id(doc_id: str) -> None:
    if not _ID.match(doc_id) or doc_id_for(doc_id, strip_suffix=False) != doc_id:
        raise CorpusChangeError(400, f"id {doc_id!r} is not allowed: use 1-128 letters, digits, '.', '_' or '-', "
                                     "starting with a letter or digit")  # fmt: skip


def _check_file_name(name: str) -> str:
    # Top-level names only: no paths (so nothing lands outside the folder), nothing hidden.
    if not _ID.match(name):
        raise CorpusChangeError(400, f"file name {name!r} is not allowed: use letters, digits, '.', '_' or '-', "
                                     "starting with a letter or digit")  # fmt: skip
    if Path(name).suffix.lower() not in SUPPORTED:
        raise CorpusChangeError(400, f"{name}: unsupported file type; send one of {', '.join(sorted(SUPPORTED))}")
    return name


def _record_bytes(doc_id: str, doc: NewDocument) -> tuple[bytes, Document]:
    """The JSON Lines record for `doc`, and the Document the build will read from it (validated here)."""
    title = doc.title
    if not title or not title.strip():  # the build's rule for files without a title: the first line
        first = next((ln.strip() for ln in doc.text.splitlines() if ln.strip()), "")
        title = first if len(first) <= 160 else first[:157].rsplit(" ", 1)[0] + "..."
    record = {"id": doc_id, "title": title, "text": doc.text}
    record.update({k: v for k, v in (("date", doc.date), ("source", doc.source), ("url", doc.url)) if v})
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    parsed = parse_file(f"{doc_id}.jsonl", data)
    return data, parsed[0]


def _free_name(folder: Path, doc_id: str) -> Path:
    path = folder / f"{doc_id}.jsonl"
    n = 2
    while path.exists():  # a file of that name holds other documents
        path = folder / f"{doc_id}-{n}.jsonl"
        n += 1
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
