"""The index on disk: versioned build folders, a CURRENT pointer swapped atomically, and loading with checks.

Layout of an index directory:
    CURRENT                 name of the live build (replaced with os.replace, so readers never see half)
    builds/<build-id>/      manifest.json, store.sqlite, chunks.npy, sentences.npy, chunks.faiss
                            (+ sentences.faiss for hnsw/ivf, lexical/: the BM25 index, qa/lexical.py)
    builds/.tmp-<id>/       a build in progress; ignored by readers, removed by the next build

SQLite holds documents, chunks and sentences (queryable, one file, transactional, in the stdlib);
vectors are plain .npy so an incremental build can reuse them; the FAISS indexes are built from them. A
server maps the .npy files rather than reading them (np.load mmap_mode): the FAISS index already holds the
vectors it searches, so the arrays are only touched for a few rows a question and need not be a second copy.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import faiss
import numpy as np

from index.cleaning import is_byline
from index.records import Chunk, Document, Sentence

FORMAT_VERSION = 1
FILES = ("store.sqlite", "chunks.npy", "sentences.npy", "chunks.faiss")
# Written for approximate index types only (an exact sentence search reads sentences.npy itself); checked
# like FILES when a manifest lists it. Builds made before it existed search their sentences exactly.
SENTENCE_INDEX = "sentences.faiss"


class IndexLoadError(RuntimeError):
    """The index cannot be used as it is; the message says why and what to do (one line)."""


class IndexWriteError(RuntimeError):
    """A build could not be written (disk full, read-only folder...); the live index, if any, is untouched."""


class IndexReadOnlyError(IndexWriteError):
    """The index folder cannot be written: no build can be made there, but an index in it can still be read."""

    def __init__(self, index_dir: Path, detail: str = "") -> None:
        self.index_dir = index_dir
        super().__init__(f"index folder {index_dir} is read-only{detail}: no new build can be written there")


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, shortened: error messages quote it inside their own line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    # Approximate index over sentence_vectors (hnsw/ivf builds); None: search sentence_vectors exactly.
    sentence_index: faiss.Index | None = None
    # Each document's byline sentences (ids, in order): the trained reader reads them with every passage of the
    # document, since a byline answers for the whole article wherever the page put it.
    bylines: dict[str, list[int]] = field(default_factory=dict)

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])


# How widely the approximate indexes search (no setting): the smallest values keeping recall@10 >= 0.95 against
# exact search from 10^4 to 10^6 chunks (benchmarks/bench_scale.py, BENCHMARKS.md "Scale"). Written into an
# index when it is built and set again when one is loaded, so older builds search as widely.
ANN_SEARCH = {"hnsw": 512, "ivf": 16}  # HNSW efSearch; IVF nprobe (at most nlist)
# The sentence index holds about 4 times as many vectors: at 10^6 chunks (3.9 million sentences) HNSW needs
# efSearch 1024 for recall@10 0.963 (512: 0.931), 3.2 ms p95; IVF was not measured there and keeps 16.
SENTENCE_ANN_SEARCH = {"hnsw": 1024, "ivf": 16}


def set_search_breadth(index: faiss.Index, breadth: dict[str, int] = ANN_SEARCH) -> faiss.Index:
    """Give an HNSW or IVF index the search breadth of `breadth` (other kinds are left as they are)."""
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = breadth["hnsw"]
    elif isinstance(index, faiss.IndexIVF):
        index.nprobe = min(index.nlist, breadth["ivf"])
    return index


def make_faiss_index(vectors: np.ndarray, kind: str, breadth: dict[str, int] = ANN_SEARCH) -> faiss.Index:
    """Exact inner product by default; HNSW or IVF for large corpora (vectors are normalised: IP = cosine)."""
    n, dim = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    elif kind == "ivf":
        nlist = max(1, min(int(4 * np.sqrt(max(n, 1))), n // 39 or 1))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
    else:
        raise ValueError(f"unknown index type {kind!r}: use flat, hnsw or ivf")
    if n:
        index.add(vectors)
    return set_search_breadth(index, breadth)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _PlainWriter:
    """A file seen by numpy as a mere object with write(): numpy then writes through Python, so a full disk
    raises OSError with its errno (ENOSPC...) rather than C stdio's errno-less "N requested and M written"."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f

    def write(self, data: bytes) -> int:
        return self._f.write(data)


def _open_new(path: Path) -> BinaryIO:
    return path.open("xb")


def _write_file(path: Path, fill: Callable[[BinaryIO], object]) -> None:
    """Create `path`, let `fill` write it, and make it durable; every write goes through Python file objects,
    so any failure is an OSError carrying its errno (ENOSPC, EDQUOT, EFBIG, EIO...)."""
    with _open_new(path) as f:
        fill(f)
        f.flush()
        os.fsync(f.fileno())


def _write_index(path: Path, index: faiss.Index) -> None:
    serialized = faiss.serialize_index(index)
    _write_file(path, lambda f: f.write(memoryview(serialized)))


def _sqlite_bytes(documents: list[Document], chunks: list[Chunk], sentences: list[Sentence]) -> bytes | memoryview:
    """The store as the bytes of an SQLite file, built in memory (so writing it to disk is one plain write)."""
    db = sqlite3.connect(":memory:")
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
        return db.serialize()
    finally:
        db.close()


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
    """Write every file of one build into `build_dir` (a fresh temporary folder), manifest last.

    A failure (disk full...) raises OSError with its errno and may leave `build_dir` half written: the caller
    removes it."""
    build_dir.mkdir(parents=True)
    store = _sqlite_bytes(documents, chunks, sentences)
    _write_file(build_dir / "store.sqlite", lambda f: f.write(store))
    _write_file(build_dir / "chunks.npy", lambda f: np.save(_PlainWriter(f), chunk_vectors))
    _write_file(build_dir / "sentences.npy", lambda f: np.save(_PlainWriter(f), sentence_vectors))
    _write_index(build_dir / "chunks.faiss", make_faiss_index(chunk_vectors, index_type))
    names = FILES
    if index_type != "flat":
        # Sentences outnumber chunks about 5 to 1: searched exactly, they would be the slowest part of a
        # question at scale (BENCHMARKS.md "Scale"), so they get the same kind of index as the chunks.
        _write_index(build_dir / SENTENCE_INDEX, make_faiss_index(sentence_vectors, index_type, SENTENCE_ANN_SEARCH))
        names = (*FILES, SENTENCE_INDEX)
    manifest = dict(manifest)
    manifest["files"] = {}
    for name in names:
        manifest["files"][name] = {
            "bytes": (build_dir / name).stat().st_size,
            "sha256": sha256_file(build_dir / name),
        }
    tmp = build_dir / "manifest.json.tmp"
    text = json.dumps(manifest, indent=2, sort_keys=True).encode()
    _write_file(tmp, lambda f: f.write(text))
    os.replace(tmp, build_dir / "manifest.json")
    fsync_path(build_dir)


def read_current(index_dir: Path) -> str:
    """The build name CURRENT holds, checked to be a plain folder name (IndexLoadError otherwise)."""
    pointer = index_dir / "CURRENT"
    try:
        raw = pointer.read_bytes()
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise IndexLoadError(f"no index at {index_dir}: build one with `qa index build --out {index_dir}`") from exc
    except OSError as exc:
        raise IndexLoadError(
            f"index at {index_dir} is unusable: its CURRENT pointer cannot be read ({exc.strerror or one_line(exc)}); "
            "rebuild it"
        ) from exc
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise IndexLoadError(
            f"index at {index_dir} is corrupt: CURRENT holds unreadable bytes, not a build name; rebuild it"
        ) from exc
    if not name or len(name) > 200 or name.startswith(".") or any(c in name for c in "/\\\0\n\r"):
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise IndexLoadError(f"index at {index_dir} is corrupt: CURRENT points to missing build {shown!r}; rebuild it")
    return name


def current_build_dir(index_dir: Path) -> Path:
    name = read_current(index_dir)
    build = index_dir / "builds" / name
    if not build.is_dir():
        raise IndexLoadError(f"index at {index_dir} is corrupt: CURRENT points to missing build {name!r}; rebuild it")
    return build


def publish(index_dir: Path, build_dir: Path) -> None:
    """Make `build_dir` the live build in one atomic step."""
    pointer = index_dir / "CURRENT"
    if pointer.is_dir() and not pointer.is_symlink():  # not a pointer at all: nothing to keep
        shutil.rmtree(pointer)
    tmp = index_dir / "CURRENT.tmp"
    tmp.unlink(missing_ok=True)  # left by a killed build
    text = (build_dir.name + "\n").encode()
    _write_file(tmp, lambda f: f.write(text))
    os.replace(tmp, pointer)
    fsync_path(index_dir)


def points_to(index_dir: Path, build_dir: Path) -> bool:
    """Whether CURRENT names `build_dir` (False when it cannot be read)."""
    try:
        return read_current(index_dir) == build_dir.name
    except IndexLoadError:
        return False


def read_manifest(build_dir: Path) -> dict[str, Any]:
    """The build's manifest, checked to have the fields and types this program relies on."""
    path = build_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as exc:
        raise IndexLoadError(f"index build {build_dir} has no manifest.json; rebuild the index") from exc
    except OSError as exc:
        raise IndexLoadError(
            f"index manifest {path} cannot be read ({exc.strerror or one_line(exc)}); rebuild the index"
        ) from exc
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError; absurd nesting
        raise IndexLoadError(f"index manifest {path} is corrupt ({one_line(exc)}); rebuild the index") from exc
    if not isinstance(manifest, dict):
        raise IndexLoadError(
            f"index manifest {path} is corrupt (a JSON {type(manifest).__name__}, not an object); rebuild the index"
        )
    if "format_version" not in manifest:
        raise IndexLoadError(f"index manifest {path} is corrupt (no 'format_version' field); rebuild the index")
    if manifest["format_version"] != FORMAT_VERSION:
        shown = manifest["format_version"]
        shown = shown if isinstance(shown, int | None) else f"{type(shown).__name__}"
        raise IndexLoadError(
            f"index at {build_dir} has format version {shown!r}, this program reads {FORMAT_VERSION}; rebuild the index"
        )
    problem = _manifest_problem(manifest)
    if problem:
        raise IndexLoadError(f"index manifest {path} is corrupt ({problem}); rebuild the index")
    return manifest


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# Fields every reader relies on: name -> check of the value.
_MANIFEST_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "build_id": ("a string", lambda v: isinstance(v, str)),
    "created_at": ("a string", lambda v: isinstance(v, str)),
    "model_id": ("a string", lambda v: isinstance(v, str)),
    "dimension": ("a positive integer", lambda v: _is_int(v) and v > 0),
    "index_type": ("a string", lambda v: isinstance(v, str)),
    "corpus_dir": ("a string", lambda v: isinstance(v, str)),
    "chunking": (
        "an object with integer max_tokens and overlap_tokens",
        lambda v: isinstance(v, dict) and _is_int(v.get("max_tokens")) and _is_int(v.get("overlap_tokens")),
    ),
    "counts": (
        "an object with integer documents, chunks and sentences",
        lambda v: isinstance(v, dict) and all(_is_int(v.get(k)) for k in ("documents", "chunks", "sentences")),
    ),
    "files": (
        f"an object giving bytes and sha256 of {', '.join(FILES)}",
        lambda v: (
            isinstance(v, dict)
            and all(
                isinstance(v.get(name), dict)
                and _is_int(v[name].get("bytes"))
                and isinstance(v[name].get("sha256"), str)
                for name in FILES
            )
        ),
    ),
}


def _manifest_problem(manifest: dict[str, Any]) -> str | None:
    for name, (want, ok) in _MANIFEST_FIELDS.items():
        if name not in manifest:
            return f"no {name!r} field"
        if not ok(manifest[name]):
            return f"{name!r} is not {want}"
    return None


def _build_files(manifest: dict[str, Any]) -> tuple[str, ...]:
    listed = manifest["files"]
    return (*FILES, SENTENCE_INDEX) if isinstance(listed.get(SENTENCE_INDEX), dict) else FILES


def check_files(build: Path, manifest: dict[str, Any], verify: bool = True) -> None:
    """Every file of the build is there, of the size the manifest gives, and (when `verify`) its checksum."""
    for name in _build_files(manifest):
        path = build / name
        want = manifest["files"][name]
        try:
            if not path.is_file():
                raise IndexLoadError(f"index file {path} is missing; rebuild the index")
            size = path.stat().st_size
            if size != want["bytes"]:
                raise IndexLoadError(
                    f"index file {path} is truncated or altered ({size} bytes, manifest says {want['bytes']}); "
                    "rebuild the index"
                )
            if verify and sha256_file(path) != want["sha256"]:
                raise IndexLoadError(f"index file {path} is corrupt (checksum mismatch); rebuild the index")
        except OSError as exc:
            raise IndexLoadError(
                f"index file {path} cannot be read ({exc.strerror or one_line(exc)}); rebuild the index"
            ) from exc


def check_index(index_dir: Path, verify: bool = False) -> Path:
    """The live build's folder, after the checks that need no loading: CURRENT, manifest, files and sizes
    (and checksums when `verify`). IndexLoadError when the index is absent or unusable."""
    build = current_build_dir(index_dir)
    check_files(build, read_manifest(build), verify=verify)
    return build


def load_index(
    index_dir: Path,
    expect_model_id: str | None = None,
    expect_dimension: int | None = None,
    verify: bool = True,
) -> IndexData:
    """Load the live build, checking it is complete, uncorrupted and made with the expected model.

    Any problem with the index on disk raises IndexLoadError with a one-line message saying what to do."""
    build = current_build_dir(index_dir)
    manifest = read_manifest(build)
    if expect_model_id is not None and manifest["model_id"] != expect_model_id:
        raise IndexLoadError(
            f"index at {index_dir} was built with model {manifest['model_id']!r}, but the configured model is "
            f"{expect_model_id!r}; rebuild the index with this model"
        )
    if expect_dimension is not None and manifest["dimension"] != expect_dimension:
        raise IndexLoadError(
            f"index at {index_dir} has dimension {manifest['dimension']}, the model gives {expect_dimension}; "
            "rebuild the index"
        )
    check_files(build, manifest, verify=verify)
    try:
        documents, chunks, sentences = _read_store(build / "store.sqlite")
        chunk_vectors = np.load(build / "chunks.npy", mmap_mode="r")
        sentence_vectors = np.load(build / "sentences.npy", mmap_mode="r")
        index = set_search_breadth(faiss.read_index(str(build / "chunks.faiss")))
        sentence_index = None
        if SENTENCE_INDEX in _build_files(manifest):
            sentence_index = set_search_breadth(faiss.read_index(str(build / SENTENCE_INDEX)), SENTENCE_ANN_SEARCH)
    except (sqlite3.Error, ValueError, OSError, RuntimeError, EOFError, MemoryError) as exc:
        if isinstance(exc, IndexLoadError):
            raise
        raise IndexLoadError(f"index at {build} cannot be read ({one_line(exc)}); rebuild the index") from exc
    dim = manifest["dimension"]
    if (
        index.d != dim
        or chunk_vectors.ndim != 2
        or sentence_vectors.ndim != 2
        or chunk_vectors.shape[1:] != (dim,)
        or sentence_vectors.shape[1:] != (dim,)
    ):
        raise IndexLoadError(f"index at {build} has vectors of the wrong dimension (manifest says {dim}); rebuild it")
    if sentence_index is not None and (sentence_index.d != dim or sentence_index.ntotal != len(sentences)):
        raise IndexLoadError(f"index at {build} is inconsistent (its sentence index does not fit); rebuild it")
    if index.ntotal != len(chunks) or len(chunk_vectors) != len(chunks) or len(sentence_vectors) != len(sentences):
        raise IndexLoadError(f"index at {build} is inconsistent (vector and record counts differ); rebuild it")
    counts = manifest["counts"]
    if (counts["documents"], counts["chunks"], counts["sentences"]) != (len(documents), len(chunks), len(sentences)):
        raise IndexLoadError(
            f"index at {build} is inconsistent (the manifest's counts differ from the store); rebuild it"
        )
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
        sentence_index=sentence_index,
        bylines=byline_sentences(sentences),
    )


def byline_sentences(sentences: list[Sentence]) -> dict[str, list[int]]:
    """doc_id -> the ids of its sentences that are bylines (index/cleaning.py keeps them as text)."""
    out: dict[str, list[int]] = {}
    for s in sentences:
        if is_byline(s.text):
            out.setdefault(s.doc_id, []).append(s.sentence_id)
    return out


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
        chunk_rows = db.execute('SELECT chunk_id, doc_id, start, "end" FROM chunks ORDER BY chunk_id').fetchall()
        sentence_rows = db.execute(
            'SELECT sentence_id, doc_id, chunk_id, start, "end" FROM sentences ORDER BY sentence_id'
        ).fetchall()
    finally:
        db.close()
    # Rows are checked against each other, so that a store altered in place (loaded without verify) fails
    # here with a clear message rather than later with a KeyError or a wrong citation.
    problem = _store_problem(documents, chunk_rows, sentence_rows)
    if problem:
        raise IndexLoadError(f"index store {path} is inconsistent ({problem}); rebuild the index")
    chunks = [Chunk(chunk_id=i, doc_id=d, start=s, end=e, text=documents[d].text[s:e]) for i, d, s, e in chunk_rows]
    sentences = [
        Sentence(sentence_id=i, doc_id=d, chunk_id=c, start=s, end=e, text=documents[d].text[s:e])
        for i, d, c, s, e in sentence_rows
    ]
    return documents, chunks, sentences


def _store_problem(documents: dict[str, Document], chunk_rows: list[tuple], sentence_rows: list[tuple]) -> str | None:
    for doc_id, doc in documents.items():
        if not isinstance(doc.text, str) or not isinstance(doc.title, str):
            return f"document {doc_id!r} has no text"
    if [row[0] for row in chunk_rows] != list(range(len(chunk_rows))):
        return "gaps in chunk ids"
    if [row[0] for row in sentence_rows] != list(range(len(sentence_rows))):
        return "gaps in sentence ids"

    def bad_span(doc_id: Any, start: Any, end: Any) -> bool:
        doc = documents.get(doc_id) if isinstance(doc_id, str) else None
        return doc is None or not (_is_int(start) and _is_int(end) and start <= end <= len(doc.text))

    for chunk_id, doc_id, start, end in chunk_rows:
        if bad_span(doc_id, start, end):
            return f"chunk {chunk_id} does not lie in a stored document"
    for sentence_id, doc_id, chunk_id, start, end in sentence_rows:
        if bad_span(doc_id, start, end) or not (
            _is_int(chunk_id) and chunk_id < len(chunk_rows) and chunk_rows[chunk_id][1] == doc_id
        ):
            return f"sentence {sentence_id} does not lie in a stored document and chunk"
    return None


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
