"""The index on disk: versioned build folders, a CURRENT pointer swapped atomically, and loading with checks.

Layout of an index directory:
    CURRENT                 name of the live build (replaced with os.replace, so readers never see half)
    builds/<build-id>/      manifest.json, store.sqlite, chunks.npy, sentences.npy, chunks.faiss
    builds/.tmp-<id>/       a build in progress; ignored by readers, removed by the next build

SQLite holds documents, chunks and sentences (queryable, one file, transactional, in the stdlib);
vectors are plain .npy so an incremental build can reuse them; the FAISS index is built from them.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.records import Chunk, Document, Sentence

FORMAT_VERSION = 1
FILES = ("store.sqlite", "chunks.npy", "sentences.npy", "chunks.faiss")


class IndexLoadError(RuntimeError):
    """The index cannot be used as it is; the message says why and what to do."""


@dataclass
class IndexData:
    build_dir: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    sentences: list[Sentence]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    faiss_index: faiss.Index
    chunk_sentence_ids: list[list[int]]  # every sentence lying inside each chunk (overlap included)

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])


def make_faiss_index(vectors: np.ndarray, kind: str) -> faiss.Index:
    """Exact inner product by default; HNSW or IVF for large corpora (vectors are normalised: IP = cosine)."""
    n, dim = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    elif kind == "ivf":
        nlist = max(1, min(int(4 * np.sqrt(max(n, 1))), n // 39 or 1))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = min(nlist, 8)
    else:
        raise ValueError(f"unknown index type {kind!r}: use flat, hnsw or ivf")
    if n:
        index.add(vectors)
    return index


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_build(
    build_dir: Path,
    manifest: dict[str, Any],
    documents: list[Document],
    chunks: list[Chunk],
    sentences: list[Sentence],
    chunk_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    index_type: str,
) -> None:
    """Write every file of one build into `build_dir` (a fresh temporary folder), manifest last."""
    build_dir.mkdir(parents=True)
    db = sqlite3.connect(build_dir / "store.sqlite")
    try:
        db.executescript(
            """
            CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL,
                date TEXT, source TEXT, url TEXT, path TEXT, content_hash TEXT NOT NULL);
            CREATE TABLE chunks (chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL,
                start INTEGER NOT NULL, "end" INTEGER NOT NULL);
            CREATE TABLE sentences (sentence_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL,
                chunk_id INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
            """
        )
        db.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?)",
            [(d.doc_id, d.title, d.text, d.date, d.source, d.url, d.path, d.content_hash) for d in documents],
        )
        db.executemany("INSERT INTO chunks VALUES (?,?,?,?)", [(c.chunk_id, c.doc_id, c.start, c.end) for c in chunks])
        db.executemany(
            "INSERT INTO sentences VALUES (?,?,?,?,?)",
            [(s.sentence_id, s.doc_id, s.chunk_id, s.start, s.end) for s in sentences],
        )
        db.commit()
    finally:
        db.close()
    np.save(build_dir / "chunks.npy", chunk_vectors)
    np.save(build_dir / "sentences.npy", sentence_vectors)
    faiss.write_index(make_faiss_index(chunk_vectors, index_type), str(build_dir / "chunks.faiss"))
    manifest = dict(manifest)
    manifest["files"] = {}
    for name in FILES:
        _fsync_file(build_dir / name)
        manifest["files"][name] = {
            "bytes": (build_dir / name).stat().st_size,
            "sha256": _sha256(build_dir / name),
        }
    tmp = build_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    _fsync_file(tmp)
    os.replace(tmp, build_dir / "manifest.json")


def current_build_dir(index_dir: Path) -> Path:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexLoadError(f"no index at {index_dir}: build one with `qa index build --out {index_dir}`")
    name = pointer.read_text().strip()
    build = index_dir / "builds" / name
    if not name or "/" in name or not build.is_dir():
        raise IndexLoadError(f"index at {index_dir} is corrupt: CURRENT points to missing build {name!r}; rebuild it")
    return build


def publish(index_dir: Path, build_dir: Path) -> None:
    """Make `build_dir` the live build in one atomic step."""
    tmp = index_dir / "CURRENT.tmp"
    tmp.write_text(build_dir.name + "\n")
    _fsync_file(tmp)
    os.replace(tmp, index_dir / "CURRENT")
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_manifest(build_dir: Path) -> dict[str, Any]:
    path = build_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise IndexLoadError(f"index build {build_dir} has no manifest.json; rebuild the index") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexLoadError(f"index manifest {path} is corrupt ({exc}); rebuild the index") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexLoadError(
            f"index at {build_dir} has format version {manifest.get('format_version')!r}, this program reads "
            f"{FORMAT_VERSION}; rebuild the index"
        )
    return manifest


def load_index(
    index_dir: Path,
    expect_model_id: str | None = None,
    expect_dimension: int | None = None,
    verify: bool = True,
) -> IndexData:
    """Load the live build, checking it is complete, uncorrupted and made with the expected model."""
    build = current_build_dir(index_dir)
    manifest = read_manifest(build)
    if expect_model_id is not None and manifest.get("model_id") != expect_model_id:
        raise IndexLoadError(
            f"index at {index_dir} was built with model {manifest.get('model_id')!r}, but the configured model is "
            f"{expect_model_id!r}; rebuild the index with this model"
        )
    if expect_dimension is not None and manifest.get("dimension") != expect_dimension:
        raise IndexLoadError(
            f"index at {index_dir} has dimension {manifest.get('dimension')}, the model gives {expect_dimension}; "
            "rebuild the index"
        )
    for name in FILES:
        path = build / name
        want = manifest.get("files", {}).get(name, {})
        if not path.is_file():
            raise IndexLoadError(f"index file {path} is missing; rebuild the index")
        size = path.stat().st_size
        if size != want.get("bytes"):
            raise IndexLoadError(
                f"index file {path} is truncated or altered ({size} bytes, manifest says {want.get('bytes')}); "
                "rebuild the index"
            )
        if verify and _sha256(path) != want.get("sha256"):
            raise IndexLoadError(f"index file {path} is corrupt (checksum mismatch); rebuild the index")
    try:
        documents, chunks, sentences = _read_store(build / "store.sqlite")
        chunk_vectors = np.load(build / "chunks.npy")
        sentence_vectors = np.load(build / "sentences.npy")
        index = faiss.read_index(str(build / "chunks.faiss"))
    except (sqlite3.DatabaseError, ValueError, OSError, RuntimeError) as exc:
        raise IndexLoadError(f"index at {build} cannot be read ({exc}); rebuild the index") from exc
    dim = manifest.get("dimension")
    if index.d != dim or chunk_vectors.shape[1:] != (dim,) or sentence_vectors.shape[1:] != (dim,):
        raise IndexLoadError(f"index at {build} has vectors of the wrong dimension (manifest says {dim}); rebuild it")
    if index.ntotal != len(chunks) or len(chunk_vectors) != len(chunks) or len(sentence_vectors) != len(sentences):
        raise IndexLoadError(f"index at {build} is inconsistent (vector and record counts differ); rebuild it")
    return IndexData(
        build_dir=build,
        manifest=manifest,
        documents=documents,
        chunks=chunks,
        sentences=sentences,
        chunk_vectors=chunk_vectors,
        sentence_vectors=sentence_vectors,
        faiss_index=index,
        chunk_sentence_ids=_sentences_per_chunk(chunks, sentences),
    )


def _read_store(path: Path) -> tuple[dict[str, Document], list[Chunk], list[Sentence]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        documents = {
            row[0]: Document(
                doc_id=row[0],
                title=row[1],
                text=row[2],
                date=row[3],
                source=row[4],
                url=row[5],
                path=row[6],
                content_hash=row[7],
            )  # fmt: skip
            for row in db.execute("SELECT * FROM documents ORDER BY doc_id")
        }
        chunks = [
            Chunk(chunk_id=i, doc_id=d, start=s, end=e, text=documents[d].text[s:e])
            for i, d, s, e in db.execute('SELECT chunk_id, doc_id, start, "end" FROM chunks ORDER BY chunk_id')
        ]
        sentences = [
            Sentence(sentence_id=i, doc_id=d, chunk_id=c, start=s, end=e, text=documents[d].text[s:e])
            for i, d, c, s, e in db.execute(
                'SELECT sentence_id, doc_id, chunk_id, start, "end" FROM sentences ORDER BY sentence_id'
            )
        ]
    finally:
        db.close()
    if [c.chunk_id for c in chunks] != list(range(len(chunks))):
        raise IndexLoadError(f"index store {path} has gaps in chunk ids; rebuild the index")
    return documents, chunks, sentences


def _sentences_per_chunk(chunks: list[Chunk], sentences: list[Sentence]) -> list[list[int]]:
    by_doc: dict[str, list[Sentence]] = {}
    for s in sentences:
        by_doc.setdefault(s.doc_id, []).append(s)
    starts = {d: [s.start for s in ss] for d, ss in by_doc.items()}
    out = []
    for c in chunks:
        ss = by_doc.get(c.doc_id, [])
        i = bisect.bisect_left(starts.get(c.doc_id, []), c.start)
        ids = []
        while i < len(ss) and ss[i].end <= c.end:
            ids.append(ss[i].sentence_id)
            i += 1
        out.append(ids)
    return out
