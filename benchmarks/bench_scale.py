"""Scale: index build, memory, disk, query latency and ANN recall at 10^4 .. 10^6 chunks.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_scale.py                       # 10^4 chunks, ~45 s
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_scale.py --sizes 1e4,1e5,1e6 \\
        --plot benchmarks/scale.png                                                    # ~42 min, ~15 GB RAM

What is real and what is synthetic (the report's first line gives the counts per size):
- real vectors: all-MiniLM-L6-v2 embeddings (index.embedding.Embedder) of 22,146 chunk-like texts, every
  window of 1-4 consecutive sentences of the SQuAD paragraphs in ../shared/train/*.json and
  ../shared/bench/squad2-dev-public.json; queries: 1,000 real SQuAD questions (never in the base), embedded
  the same way. Cached in var/scale/ (the first run embeds them: ~2 min for 10^4, ~4 min for all).
- synthetic vectors, beyond the real ones: a real vector plus Gaussian noise (per-dimension sigma
  SYNTHETIC_SIGMA), renormalised. Every sentence vector is synthetic: its chunk's vector plus the same noise.
- synthetic text, beyond the real windows: 3-5 real sentences drawn at random and joined, plus two made-up
  rare words (from a pool of 10^6) so that the vocabulary keeps growing as a real corpus's does.
- synthetic store: those texts, 8 chunks to a document, sentences split by index.sentences.
- embedding time at 10^5 and 10^6 is extrapolated from the measured encoder rate (texts/s).

Measured, each part in a fresh child process so that its memory (RSS) is its own:
- FAISS (index.store.make_faiss_index, the shipped constants): build time, RSS growth, serialized size,
  single-query search latency (k=10) and recall@10 against exact search over a sweep of efSearch (hnsw)
  and nprobe (ivf);
- lexical search (qa.lexical.BM25; with --lexical-baseline REF also the hand-written BM25 of that commit):
  index time, RSS growth, save/load, and per-query latency of what qa.retrieval does with it;
- the SQLite store: write time, size, load time and RSS (index.store._read_store);
- the sentence vectors and their hnsw index, as index.store.write_build makes them for an hnsw build
  (sentences.npy, sentences.faiss): build time, memory, size;
- a serving process loading what index.store.load_index loads for an hnsw build (vectors mapped, both FAISS
  indexes read) and a qa.retrieval.Retriever: RSS step by step, the latency of Retriever.search without the
  question embedding and of its sentence search, and the sentence search's recall against exact search.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

SQUAD_FILES = [
    *sorted((ROOT.parent / "shared" / "train").glob("*.json")),
    ROOT.parent / "shared" / "bench" / "squad2-dev-public.json",
]
CACHE = ROOT / "var" / "scale"
SYNTHETIC_SIGMA = 0.03  # per-dimension noise of a synthetic vector (norm ~0.59 before renormalising)
CHUNKS_PER_DOC = 8
RARE_POOL = 1_000_000
SWEEP = {"hnsw": ("efSearch", [16, 32, 64, 128, 256, 512]), "ivf": ("nprobe", [1, 2, 4, 8, 16, 32, 64, 128])}
TARGET_RECALL = 0.95
# The hand-written BM25 that qa/lexical.py held before bm25s (for --lexical-baseline).
HANDWRITTEN_BM25 = "47d668a1eca0247d9036e2af3018cafdb0645637"


# -- real data ---------------------------------------------------------------------------------------------


def real_pool() -> tuple[list[str], list[str], list[str]]:
    """(chunk-like texts: windows of 1-4 consecutive sentences, sentences, questions), shuffled, no repeats."""
    from index.sentences import split_sentences

    windows: dict[str, None] = {}
    sentences: dict[str, None] = {}
    questions: dict[str, None] = {}
    for path in SQUAD_FILES:
        for article in json.loads(path.read_text())["data"]:
            for p in article["paragraphs"]:
                text = p["context"]
                sents = [text[s:e] for s, e in split_sentences(text, 0, len(text))]
                sentences.update(dict.fromkeys(sents))
                for size in range(1, 5):
                    for i in range(len(sents) - size + 1):
                        windows[" ".join(sents[i : i + size])] = None
                questions.update(dict.fromkeys(q["question"].strip() for q in p["qas"]))
    out = []
    for seed, items in enumerate((windows, sentences, questions)):
        listed = list(items)
        random.Random(seed).shuffle(listed)
        out.append(listed)
    return out[0], out[1], out[2]


def real_vectors(n_texts: int, n_queries: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Embeddings of the first n_texts pool texts and n_queries questions (cached), and the encoder's rate."""
    texts, _, questions = real_pool()
    n_texts, n_queries = min(n_texts, len(texts)), min(n_queries, len(questions))
    key = hashlib.sha256("\n".join(texts + questions).encode()).hexdigest()[:12]
    path = CACHE / f"real-vectors-{key}.npz"
    cached: dict[str, Any] = dict(np.load(path)) if path.exists() else {}
    tv = cached.get("texts", np.zeros((0, 384), np.float32))
    qv = cached.get("questions", np.zeros((0, 384), np.float32))
    rate = float(cached.get("rate", 0.0))
    if len(tv) < n_texts or len(qv) < n_queries:
        from index.embedding import Embedder

        embedder = Embedder()
        embedder.encode(texts[:64])  # warm-up
        todo = texts[len(tv) : n_texts]
        log(f"embedding {len(todo)} real texts and {max(0, n_queries - len(qv))} questions (cached in {path})")
        t = time.perf_counter()
        new = embedder.encode(todo, progress=sys.stderr.isatty())
        if len(todo) >= 500:
            rate = len(todo) / (time.perf_counter() - t)
        tv = np.vstack([tv, new]) if len(tv) else new
        if len(qv) < n_queries:
            q_new = embedder.encode(questions[len(qv) : n_queries])
            qv = np.vstack([qv, q_new]) if len(qv) else q_new
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, texts=tv, questions=qv, rate=rate)
    return tv[:n_texts], qv[:n_queries], rate


# -- synthetic data ----------------------------------------------------------------------------------------


def base_vectors(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n unit vectors: the real ones first, then real[i % R] plus Gaussian noise, renormalised (synthetic)."""
    r, dim = real.shape
    out = np.empty((n, dim), dtype=np.float32)
    out[: min(n, r)] = real[:n]
    rng = np.random.default_rng(seed)
    for lo in range(r, n, 1 << 16):
        hi = min(n, lo + (1 << 16))
        block = real[np.arange(lo, hi) % r] + rng.standard_normal((hi - lo, dim), dtype=np.float32) * SYNTHETIC_SIGMA
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[lo:hi] = block
    return out


def chunk_texts(n: int, n_real: int, seed: int = 0) -> list[str]:
    """n chunk texts: the first n_real real windows, then random joins of 3-5 real sentences plus two rare
    made-up words (synthetic)."""
    windows, sentences, _ = real_pool()
    out = windows[: min(n, n_real)]
    m = n - len(out)
    if m > 0:
        rng = np.random.default_rng(seed)
        counts = rng.integers(3, 6, size=m)
        picks = rng.integers(0, len(sentences), size=int(counts.sum()))
        rare = rng.integers(0, RARE_POOL, size=(m, 2))
        pos = 0
        for i in range(m):
            c = int(counts[i])
            words = f"zq{rare[i, 0]:x} zq{rare[i, 1]:x}"
            out.append(" ".join([sentences[j] for j in picks[pos : pos + c]]) + " " + words)
            pos += c
    return out


def synthetic_store(texts: list[str]) -> tuple[list, list, list]:
    """Documents of CHUNKS_PER_DOC texts each, chunks = those texts, sentences split inside each chunk."""
    from index.records import Chunk, Document, Sentence
    from index.sentences import split_sentences

    documents, chunks, sentences = [], [], []
    for d in range(0, len(texts), CHUNKS_PER_DOC):
        doc_id = f"{d // CHUNKS_PER_DOC:07d}_synthetic"
        parts = texts[d : d + CHUNKS_PER_DOC]
        text = "\n\n".join(parts)
        documents.append(Document(doc_id=doc_id, title=f"Synthetic {d // CHUNKS_PER_DOC}", text=text,
                                  date="2024-01-01", source="synthetic", content_hash=str(d)))  # fmt: skip
        start = 0
        for part in parts:
            cid = len(chunks)
            chunks.append(Chunk(chunk_id=cid, doc_id=doc_id, start=start, end=start + len(part), text=part))
            for s, e in split_sentences(text, start, start + len(part)):
                sentences.append(Sentence(len(sentences), doc_id, cid, s, e, text[s:e]))
            start += len(part) + 2
    return documents, chunks, sentences


# -- helpers -----------------------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def proc_status_mb() -> dict[str, float]:
    """This process's memory fields of /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile) in MiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:")):
            k, v = line.split(":")
            fields[k] = int(v.split()[0]) / 1024
    return fields


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MiB."""
    fields = proc_status_mb()
    return fields["VmRSS"], fields["VmHWM"]


def settled_rss() -> float:
    gc.collect()
    return rss_mb()[0]


def pct(times_s: list[float]) -> dict[str, float]:
    ms = np.array(times_s) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def load_handwritten_bm25(ref: str) -> types.ModuleType:
    """qa/lexical.py as it was at commit `ref` (the hand-written BM25), imported under another name."""
    src = subprocess.run(["git", "show", f"{ref}:qa/lexical.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    path = CACHE / f"lexical_{ref[:12]}.py"
    path.write_text(src.stdout)
    spec = importlib.util.spec_from_file_location(f"lexical_{ref[:12]}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# -- child processes: one measurement each -----------------------------------------------------------------


def child_exact(a: dict) -> dict:
    """Ground truth (exact top-10 of every query), exact search latency, and the chunk vectors file."""
    import faiss

    real, queries, _ = real_vectors(a["real"], a["queries"])
    vectors = base_vectors(real, a["n"])
    work = Path(a["work"])
    t = time.perf_counter()
    with open(work / "chunks.npy", "wb") as f:
        np.save(f, vectors)
    npy_s = time.perf_counter() - t
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    sims, gt = index.search(queries, 10)
    np.save(work / "gt.npy", gt)
    times = []
    for q in queries[: a["flat_queries"]]:
        t = time.perf_counter()
        index.search(q.reshape(1, -1), 10)
        times.append(time.perf_counter() - t)
    # How close synthetic vectors sit to their source, next to how close real texts sit to each other.
    sample = vectors[: min(len(real), 2000)]
    nn = np.sort(sample @ real[: min(len(real), 20000)].T, axis=1)[:, -2]
    extra = {}
    if a["n"] > len(real):
        src = np.arange(len(real), min(a["n"], len(real) + 2000)) % len(real)
        extra["synthetic_to_source_cos_median"] = float(
            np.median(np.sum(vectors[len(real) : len(real) + 2000] * real[src], 1))
        )
    return {
        "npy_write_s": npy_s,
        "npy_bytes": (work / "chunks.npy").stat().st_size,
        "flat": pct(times),
        "real_nn_cos_median": float(np.median(nn)),
        "top1_sim_median": float(np.median(sims[:, 0])),
        **extra,
    }


def child_ann(a: dict) -> dict:
    """One FAISS kind: build time, memory, size, and the efSearch/nprobe sweep (recall@10, latency)."""
    import faiss

    from index.store import make_faiss_index

    real, queries, _ = real_vectors(a["real"], a["queries"])
    vectors = base_vectors(real, a["n"])
    gt = np.load(Path(a["work"]) / "gt.npy")
    before = settled_rss()
    t = time.perf_counter()
    index = make_faiss_index(vectors, a["kind"])
    build_s = time.perf_counter() - t
    grown = settled_rss() - before
    t = time.perf_counter()
    blob = faiss.serialize_index(index)
    if a["kind"] == "hnsw":
        (Path(a["work"]) / "chunks.faiss").write_bytes(memoryview(blob))
    serialize_s = time.perf_counter() - t
    name, values = SWEEP[a["kind"]]
    shipped = index.hnsw.efSearch if a["kind"] == "hnsw" else index.nprobe
    limit = index.nlist if a["kind"] == "ivf" else max(values)
    values = sorted({v for v in values if v <= limit} | {shipped})
    rows = []
    for v in values:
        if a["kind"] == "hnsw":
            index.hnsw.efSearch = v
        else:
            index.nprobe = v
        found = np.zeros_like(gt)
        times = []
        for i, q in enumerate(queries):
            t = time.perf_counter()
            _, ids = index.search(q.reshape(1, -1), 10)
            times.append(time.perf_counter() - t)
            found[i] = ids[0]
        recall = np.mean([len(set(found[i]) & set(gt[i])) / 10 for i in range(len(gt))])
        rows.append({name: v, "recall@10": float(recall), **pct(times), "shipped": v == shipped})
    out = {"build_s": build_s, "rss_growth_mb": grown, "bytes": len(blob), "serialize_s": serialize_s, "sweep": rows}
    if a["kind"] == "ivf":
        out["nlist"] = int(index.nlist)
    return out


def child_lexical(a: dict) -> dict:
    """One BM25 implementation: index time and memory, query latency of what retrieval does, save/load."""
    if a["impl"] == "bm25s":
        from qa import lexical
    else:
        lexical = load_handwritten_bm25(a["impl"])
    from qa.lexical import top_ids

    texts = chunk_texts(a["n"], a["real"])
    _, _, questions = real_pool()
    questions = questions[: a["queries"]]
    before = settled_rss()
    t = time.perf_counter()
    bm25 = lexical.BM25(texts)
    build_s = time.perf_counter() - t
    rss_after, peak = rss_mb()
    grown = settled_rss() - before
    depth = 20  # what Retriever.search keeps for top_k 5 (max(top_k * 4, 20))
    score_t, select_t, tops = [], [], []
    for q in questions:
        t = time.perf_counter()
        scores = bm25.normalised_scores(q)
        t1 = time.perf_counter()
        top = top_ids(scores, depth) if a["impl"] == "bm25s" else np.argsort(-scores)[:depth]
        t2 = time.perf_counter()
        score_t.append(t1 - t)
        select_t.append(t2 - t1)
        top = top[np.argsort(-scores[top], kind="stable")][:10]
        tops.append([int(i) for i in top if scores[i] > 0])
    out = {
        "build_s": build_s,
        "rss_growth_mb": grown,
        "peak_mb": peak,
        "scores": pct(score_t),
        "select": pct(select_t),
        "total": pct([s + x for s, x in zip(score_t, select_t, strict=True)]),
        "select_kind": "argpartition (top_ids)" if a["impl"] == "bm25s" else "argsort",
        "top10": tops[:200],
    }
    if a["impl"] == "bm25s":
        folder = Path(a["work"]) / "lexical"
        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        bm25.save(folder)
        out["save_s"] = time.perf_counter() - t
        out["bytes"] = folder_bytes(folder)
    return out


def child_lexical_load(a: dict) -> dict:
    from qa.lexical import BM25

    before = settled_rss()
    t = time.perf_counter()
    bm25 = BM25.load(Path(a["work"]) / "lexical")
    load_s = time.perf_counter() - t
    return {"load_s": load_s, "rss_growth_mb": settled_rss() - before, "n": bm25.n}


def child_store(a: dict) -> dict:
    """The synthetic store written as write_build writes it (index.store._sqlite_bytes, one plain write)."""
    from index.store import _sqlite_bytes

    documents, chunks, sentences = synthetic_store(chunk_texts(a["n"], a["real"]))
    t = time.perf_counter()
    blob = _sqlite_bytes(documents, chunks, sentences)
    path = Path(a["work"]) / "store.sqlite"
    with open(path, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    return {
        "write_s": time.perf_counter() - t,
        "bytes": path.stat().st_size,
        "documents": len(documents),
        "chunks": len(chunks),
        "sentences": len(sentences),
        "text_mb": sum(len(d.text) for d in documents) / 2**20,
    }


def child_store_load(a: dict) -> dict:
    from index.store import _read_store, _sentences_per_chunk

    path = Path(a["work"]) / "store.sqlite"
    before = settled_rss()
    t = time.perf_counter()
    documents, chunks, sentences = _read_store(path)
    read_s = time.perf_counter() - t
    grown = settled_rss() - before
    t = time.perf_counter()
    ids = _sentences_per_chunk(chunks, sentences)
    return {
        "chunk_sentence_ids": len(ids),
        "read_s": read_s,
        "rss_growth_mb": grown,
        "peak_mb": rss_mb()[1],
        "sentences_per_chunk_s": time.perf_counter() - t,
        "rss_with_sentence_ids_mb": settled_rss() - before,
    }


def child_sentences(a: dict) -> dict:
    """The sentence vectors and their index as write_build makes them for an hnsw build: sentences.npy
    (synthetic: each sentence's vector is its chunk's plus noise, renormalised) and sentences.faiss."""
    import sqlite3

    import faiss

    from index.store import make_faiss_index

    work = Path(a["work"])
    db = sqlite3.connect(f"file:{work / 'store.sqlite'}?mode=ro", uri=True)
    try:  # the owning chunk of each sentence, without loading the store's records (4.7 GB at 10^6)
        rows = db.execute("SELECT chunk_id FROM sentences ORDER BY sentence_id").fetchall()
    finally:
        db.close()
    owner = np.array([r[0] for r in rows], dtype=np.int64)
    del rows
    chunk_vectors = np.load(work / "chunks.npy", mmap_mode="r")
    shape = (len(owner), chunk_vectors.shape[1])
    # Generated and written a slice at a time, so that no second full copy is ever in memory; only the
    # writes are timed (a real build writes vectors the embedder made).
    rng = np.random.default_rng(1)
    npy = work / "sentences.npy"
    write_s = 0.0
    with open(npy, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": shape})
        for lo in range(0, shape[0], 1 << 16):
            sv = chunk_vectors[owner[lo : lo + (1 << 16)]]
            sv += rng.standard_normal(sv.shape, dtype=np.float32) * SYNTHETIC_SIGMA
            sv /= np.linalg.norm(sv, axis=1, keepdims=True)
            t = time.perf_counter()
            f.write(sv.tobytes())
            write_s += time.perf_counter() - t
    sv = np.load(npy, mmap_mode="r")  # FAISS reads it through the page cache: no anonymous copy
    t = time.perf_counter()
    index = make_faiss_index(sv, "hnsw")
    build_s = time.perf_counter() - t
    memory = proc_status_mb()  # the index's own size is measured where it is loaded (child_serving)
    t = time.perf_counter()
    faiss.write_index(index, str(work / "sentences.faiss"))  # straight to the file: serialize_index copies
    index_write_s = time.perf_counter() - t
    return {
        "sentences": shape[0],
        "npy_write_s": write_s,
        "npy_bytes": npy.stat().st_size,
        "build_s": build_s,
        "index_write_s": index_write_s,
        "bytes": (work / "sentences.faiss").stat().st_size,
        "anon_mb": memory["RssAnon"],
        "file_mb": memory["RssFile"],  # the mapped sentences.npy pages FAISS read (page cache, reclaimable)
        "peak_mb": memory["VmHWM"],
    }


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int, step: int = 1 << 17) -> np.ndarray:
    """Ids of the k vectors of highest inner product with each query, best first, in one pass over `vectors`
    (a mapped array is read once for all queries, a slice at a time)."""
    top_sims = np.zeros((len(queries), 0), np.float32)
    top_ids = np.zeros((len(queries), 0), np.int64)
    for lo in range(0, len(vectors), step):
        sims = queries @ np.asarray(vectors[lo : lo + step]).T
        ids = np.broadcast_to(np.arange(lo, lo + sims.shape[1]), sims.shape)
        all_sims, all_ids = np.hstack([top_sims, sims]), np.hstack([top_ids, ids])
        keep = np.argpartition(-all_sims, min(k, all_sims.shape[1]) - 1, axis=1)[:, :k]
        top_sims, top_ids = np.take_along_axis(all_sims, keep, 1), np.take_along_axis(all_ids, keep, 1)
    return np.take_along_axis(top_ids, np.argsort(-top_sims, axis=1), 1)


def child_serving(a: dict) -> dict:
    """What a serving process holds (qa.engine.Engine: index.store.load_index + Retriever) for an hnsw build,
    step by step, the latency of Retriever.search with the question vector given (no embedding), and the
    recall of its approximate sentence search."""
    import faiss

    from index.store import SENTENCE_ANN_SEARCH, IndexData, _read_store, _sentences_per_chunk, set_search_breadth
    from qa.retrieval import Retriever

    work = Path(a["work"])
    _, queries, _ = real_vectors(a["real"], a["queries"])
    _, _, questions = real_pool()
    steps = {"imports": settled_rss()}
    documents, chunks, sentences = _read_store(work / "store.sqlite")
    chunk_sentence_ids = _sentences_per_chunk(chunks, sentences)
    steps["store"] = settled_rss()
    # As load_index does: the .npy files mapped, not read (only the rows a question touches come in).
    chunk_vectors = np.load(work / "chunks.npy", mmap_mode="r")
    sentence_vectors = np.load(work / "sentences.npy", mmap_mode="r")
    steps["vectors (mapped)"] = settled_rss()
    index = set_search_breadth(faiss.read_index(str(work / "chunks.faiss")))
    steps["chunk hnsw index"] = settled_rss()
    sentence_index = set_search_breadth(faiss.read_index(str(work / "sentences.faiss")), SENTENCE_ANN_SEARCH)
    steps["sentence hnsw index"] = settled_rss()
    manifest = {"dimension": chunk_vectors.shape[1], "counts": {"chunks": len(chunks)}}
    data = IndexData(work, manifest, documents, chunks, sentences, chunk_vectors, sentence_vectors, index,
                     chunk_sentence_ids, sentence_index=sentence_index)  # fmt: skip
    t = time.perf_counter()
    retriever = Retriever(data)  # loads the saved BM25 from work/lexical; sentence -> chunks arrays
    retriever_s = time.perf_counter() - t
    steps["retriever (BM25 + sentence-chunk arrays)"] = settled_rss()
    depth = 3 * max(5 * 4, 20)  # the sentences Retriever.search asks for with top_k 5
    served = list(zip(queries[: a["serve_queries"]], questions, strict=False))
    # First pass: the rows of the mapped chunks.npy a question scores come from disk (page faults); second
    # pass, the same questions: those pages are cached, as they are in a server that has run a while.
    times, sentence_times = [], []
    for q, text in served:
        t = time.perf_counter()
        retriever.search(q, text, 5)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        retriever.nearest_sentences(q, depth)  # its share: the hnsw search over the sentences
        sentence_times.append(time.perf_counter() - t)
    steps["after the queries"] = settled_rss()
    memory = proc_status_mb()
    warm_times = []
    for q, text in served:
        t = time.perf_counter()
        retriever.search(q, text, 5)
        warm_times.append(time.perf_counter() - t)
    # Chunk level only (no sentence search), for comparison with the earlier figures.
    nearest = retriever.nearest_sentences
    retriever.nearest_sentences = lambda q, k: (np.zeros(0, np.int64), np.zeros(0, np.float32))  # type: ignore[method-assign]
    chunk_times = []
    for q, text in served:
        t = time.perf_counter()
        retriever.search(q, text, 5)
        chunk_times.append(time.perf_counter() - t)
    retriever.nearest_sentences = nearest  # type: ignore[method-assign]
    # Recall of the sentence search against exact search over the mapped vectors: one pass over them for all
    # the queries (6 GB at 10^6), after the memory figures since it pulls every page in.
    rq = queries[: a["recall_queries"]]
    t = time.perf_counter()
    exact = exact_top(sentence_vectors, rq, depth)
    exact_s = time.perf_counter() - t
    recall10, recall60 = [], []
    for q, truth in zip(rq, exact, strict=True):
        ids, sims = nearest(q, depth)
        ids = ids[np.argsort(-sims)]
        recall10.append(len(set(ids[:10].tolist()) & set(truth[:10].tolist())) / 10)
        recall60.append(len(set(ids.tolist()) & set(truth.tolist())) / len(truth))
    # What the approximation changes in the answer's evidence: Retriever.search's top 5 with the exact
    # sentence list instead, and the sentence search at other efSearch values.
    agreement = []
    for (q, text), truth in zip(served, exact, strict=False):
        approx = {h.chunk_id for h in retriever.search(q, text, 5)}
        sims = np.asarray(sentence_vectors[truth]) @ q
        retriever.nearest_sentences = lambda _q, _k, ids=truth, sims=sims: (ids, sims)  # type: ignore[method-assign]
        agreement.append(len(approx & {h.chunk_id for h in retriever.search(q, text, 5)}) / 5)
        retriever.nearest_sentences = nearest  # type: ignore[method-assign]
    sweep = []
    for ef in (256, 512, 1024, 2048):
        sentence_index.hnsw.efSearch = ef
        r10, rd, ef_times = [], [], []
        for q, truth in zip(rq, exact, strict=True):
            t = time.perf_counter()
            sims, ids = sentence_index.search(q.reshape(1, -1), depth)
            ef_times.append(time.perf_counter() - t)
            r10.append(len(set(ids[0][:10].tolist()) & set(truth[:10].tolist())) / 10)
            rd.append(len(set(ids[0].tolist()) & set(truth.tolist())) / len(truth))
        sweep.append({"efSearch": ef, "recall@10": float(np.mean(r10)), "recall@depth": float(np.mean(rd)),
                      **pct(ef_times)})  # fmt: skip
    set_search_breadth(sentence_index, SENTENCE_ANN_SEARCH)
    return {
        "rss_steps_mb": steps,
        "rss_mb": steps["after the queries"],
        "rss_anon_mb": memory["RssAnon"],
        "rss_file_mb": memory["RssFile"],
        "peak_mb": memory["VmHWM"],
        "sentences": len(sentences),
        "retriever_init_s": retriever_s,
        "search": pct(times),
        "search_warm": pct(warm_times),
        "sentence_search": pct(sentence_times),
        "top5_agreement_with_exact_sentences": float(np.mean(agreement)),
        "sentence_sweep": sweep,
        "chunk_level_search": pct(chunk_times),
        "sentence_depth": depth,
        "recall_queries": len(rq),
        "sentence_recall@10": float(np.mean(recall10)),
        "sentence_recall@depth": float(np.mean(recall60)),
        "exact_sentence_pass_s": exact_s,
    }


CHILDREN = {f.__name__[6:]: f for f in (child_exact, child_ann, child_lexical, child_lexical_load, child_store,
                                        child_store_load, child_sentences, child_serving)}  # fmt: skip


REUSE = False  # --reuse: take a child's figures from an earlier run with the same arguments


def run_child(name: str, **args: Any) -> dict:
    log(f"  {name} {json.dumps({k: v for k, v in args.items() if k not in ('work',)})}")
    memo = CACHE / "children" / (hashlib.sha256(json.dumps([name, args], sort_keys=True).encode()).hexdigest()[:16])
    if REUSE and memo.exists():
        return json.loads(memo.read_text())
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name, json.dumps(args)], stdout=subprocess.PIPE, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {name} failed (exit {proc.returncode})")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - t
    out["load_avg_5min"] = os.getloadavg()[1]  # other work on the machine slows the timings
    log(f"    done in {out['wall_s']:.0f} s, load average (5 min) {out['load_avg_5min']:.1f}")
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(json.dumps(out))
    return out


# -- the run -----------------------------------------------------------------------------------------------


def measure(n: int, args: argparse.Namespace, rate: float) -> dict:
    work = CACHE / "work" / str(n)
    if not args.reuse:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    common = {"n": n, "real": args.real, "queries": args.queries, "work": str(work)}
    log(f"size {n:,}")
    res: dict[str, Any] = {"n": n, "synthetic_vectors": max(0, n - args.real)}
    res["exact"] = run_child("exact", flat_queries=min(args.queries, 50 if n >= 10**6 else 200), **common)
    res["ann"] = {kind: run_child("ann", kind=kind, **common) for kind in args.kinds}
    res["lexical"] = {"bm25s": run_child("lexical", impl="bm25s", **common)}
    res["lexical"]["bm25s"]["built_mb"] = res["lexical"]["bm25s"]["rss_growth_mb"]
    res["lexical"]["bm25s"].update(run_child("lexical_load", **common))
    if args.lexical_baseline:
        res["lexical"]["handwritten"] = run_child("lexical", impl=args.lexical_baseline, **common)
        a, b = res["lexical"]["bm25s"]["top10"], res["lexical"]["handwritten"]["top10"]
        res["lexical"]["top10_agreement"] = float(np.mean([len(set(x) & set(y)) / max(len(x), len(y), 1)
                                                           for x, y in zip(a, b, strict=True)]))  # fmt: skip
    for lex in res["lexical"].values():
        if isinstance(lex, dict):
            lex.pop("top10", None)
    res["store"] = run_child("store", **common)
    res["store"].update(run_child("store_load", **common))
    res["embedding_texts"] = res["store"]["chunks"] + res["store"]["sentences"]
    res["embedding_s_estimate"] = res["embedding_texts"] / rate if rate else None
    if "hnsw" in args.kinds:  # what an hnsw build writes for its sentences, then a process serving it all
        res["sentence_index"] = run_child("sentences", **common)
        res["serving"] = run_child("serving", serve_queries=min(args.queries, 300),
                                   recall_queries=min(args.queries, args.recall_queries), **common)  # fmt: skip
    res["disk_bytes"] = {
        "store.sqlite": res["store"]["bytes"],
        "chunks.npy": res["exact"]["npy_bytes"],
        "sentences.npy": res["store"]["sentences"] * 384 * 4 + 128,  # float32; written with the sentence index
        **{f"chunks.faiss ({k})": v["bytes"] for k, v in res["ann"].items()},
        **({"sentences.faiss (hnsw)": res["sentence_index"]["bytes"]} if "sentence_index" in res else {}),
        "bm25s": res["lexical"]["bm25s"]["bytes"],
    }
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return res


def sentence_index_mb(r: dict) -> float:
    """RSS growth of the serving process when it reads sentences.faiss."""
    steps = r["serving"]["rss_steps_mb"]
    return steps["sentence hnsw index"] - steps["chunk hnsw index"]


def best(sweep: list[dict]) -> dict | None:
    ok = [r for r in sweep if r["recall@10"] >= TARGET_RECALL]
    return ok[0] if ok else None


def report(results: list[dict], rate: float, args: argparse.Namespace) -> str:
    L: list[str] = []
    [r["n"] for r in results]
    syn = ", ".join(f"{r['n']:,}: {r['synthetic_vectors']:,}" for r in results)
    L.append(f"real vectors: {args.real:,} (capped by what was embedded); synthetic vectors per size: {syn}")
    L.append(f"queries: {args.queries} real SQuAD questions; encoder rate {rate:.0f} texts/s (embedding estimates)")
    L.append("")
    L.append("### Index build (s): embedding (est. from the encoder rate) and everything else")
    L.append("")
    sentence_kinds = ["hnsw"] if "hnsw" in args.kinds else []
    L.append("| chunks | sentences | embedding (est.) | store write | vectors .npy (chunks + sentences) | "
             "BM25 index + save | " + " | ".join(f"FAISS {k}" for k in args.kinds)
             + "".join(f" | FAISS {k} over sentences" for k in sentence_kinds)
             + " | everything else (hnsw) |")  # fmt: skip
    L.append("|---:|---:|---:|---:|---:|---:|" + "---:|" * (len(args.kinds) + len(sentence_kinds)) + "---:|")
    for r in results:
        lex = r["lexical"]["bm25s"]
        sent = r.get("sentence_index")
        npy_s = r["exact"]["npy_write_s"] + (sent["npy_write_s"] if sent else 0.0)
        rest = r["store"]["write_s"] + npy_s + lex["build_s"] + lex["save_s"]
        faiss_s = [r["ann"][k]["build_s"] for k in args.kinds] + ([sent["build_s"]] if sent else [])
        other = rest + r["ann"].get("hnsw", r["ann"][args.kinds[0]])["build_s"] + (sent["build_s"] if sent else 0.0)
        L.append(f"| {r['n']:,} | {r['store']['sentences']:,} | {r['embedding_s_estimate'] or 0:,.0f} | "
                 f"{r['store']['write_s']:.1f} | {npy_s:.1f} | "
                 f"{lex['build_s'] + lex['save_s']:.1f} | " + " | ".join(f"{s:.1f}" for s in faiss_s)
                 + f" | {other:.1f} |")  # fmt: skip
    L.append("")
    L.append(f"### ANN search: recall@10 against exact search, single-query latency (k=10, {_threads()} threads)")
    L.append("")
    L.append(
        "| chunks | index | build s | memory MiB | disk MiB | shipped param | recall@10 | p50 ms | p95 ms | "
        "param for recall ≥ 0.95 | recall@10 | p50 ms | p95 ms |"
    )
    L.append("|---:|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|")
    for r in results:
        flat = r["exact"]["flat"]
        L.append(f"| {r['n']:,} | flat (exact) | - | {r['exact']['npy_bytes'] / 2**20:.0f} | "
                 f"{r['exact']['npy_bytes'] / 2**20:.0f} | - | 1.000 | {flat['p50_ms']:.2f} | {flat['p95_ms']:.2f} "
                 "| - | | | |")  # fmt: skip
        for kind, a in r["ann"].items():
            name = SWEEP[kind][0]
            shipped = next(x for x in a["sweep"] if x["shipped"])
            b = best(a["sweep"])
            extra = f" (nlist {a['nlist']})" if "nlist" in a else ""
            good = (f"{name} {b[name]} | {b['recall@10']:.3f} | {b['p50_ms']:.2f} | {b['p95_ms']:.2f}"
                    if b else "not reached | | |")  # fmt: skip
            L.append(f"| {r['n']:,} | {kind}{extra} | {a['build_s']:.1f} | {a['rss_growth_mb']:.0f} | "
                     f"{a['bytes'] / 2**20:.0f} | {name} {shipped[name]} | {shipped['recall@10']:.3f} | "
                     f"{shipped['p50_ms']:.2f} | {shipped['p95_ms']:.2f} | {good} |")  # fmt: skip
    L.append("")
    L.append("Sweeps (recall@10 / p95 ms):")
    L.append("")
    for r in results:
        for kind, a in r["ann"].items():
            name = SWEEP[kind][0]
            cells = ", ".join(f"{x[name]}: {x['recall@10']:.3f} / {x['p95_ms']:.2f}" for x in a["sweep"])
            L.append(f"- {r['n']:,} {kind} ({name}): {cells}")
    L.append("")
    L.append("### Lexical search (BM25 over chunk texts; per query: scoring + picking the top 20, as retrieval does)")
    L.append("")
    L.append(
        "| chunks | implementation | index s | memory MiB | peak MiB | disk MiB | load s | load MiB | "
        "score p50/p95 ms | top-20 p50/p95 ms | total p95 ms |"
    )
    L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for impl, x in r["lexical"].items():
            if not isinstance(x, dict):
                continue
            name = "bm25s (qa.lexical)" if impl == "bm25s" else f"hand-written ({args.lexical_baseline[:7]})"
            disk = f"{x['bytes'] / 2**20:.0f}" if "bytes" in x else "-"
            load = f"{x['load_s']:.2f} | {x['rss_growth_mb']:.0f}" if "load_s" in x else "- | -"
            mem = x["built_mb"] if "built_mb" in x else x["rss_growth_mb"]
            score = f"{x['scores']['p50_ms']:.1f} / {x['scores']['p95_ms']:.1f}"
            L.append(f"| {r['n']:,} | {name} | {x['build_s']:.1f} | {mem:.0f} "
                     f"| {x['peak_mb']:.0f} | {disk} | {load} | {score} "
                     f"| {x['select']['p50_ms']:.2f} / {x['select']['p95_ms']:.2f} ({x['select_kind']}) "
                     f"| {x['total']['p95_ms']:.1f} |")  # fmt: skip
        if "top10_agreement" in r["lexical"]:
            L.append(
                f"| {r['n']:,} | top-10 agreement of the two | | | | | | | | | {r['lexical']['top10_agreement']:.3f} |"
            )
    L.append("")
    L.append("### SQLite store (synthetic documents; index.store._read_store)")
    L.append("")
    L.append("| chunks | documents | sentences | text MiB | write s | disk MiB | load s | load RSS MiB | "
             "+ sentence ids s | with them, RSS MiB |")  # fmt: skip
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        s = r["store"]
        L.append(f"| {r['n']:,} | {s['documents']:,} | {s['sentences']:,} | {s['text_mb']:.0f} | {s['write_s']:.1f} | "
                 f"{s['bytes'] / 2**20:.0f} | {s['read_s']:.1f} | {s['rss_growth_mb']:.0f} | "
                 f"{s['sentences_per_chunk_s']:.1f} | {s['rss_with_sentence_ids_mb']:.0f} |")  # fmt: skip
    L.append("")
    served = [r for r in results if r.get("serving")]
    if served:
        L.append("### Sentence index (hnsw over the sentence vectors, as write_build makes it)")
        L.append("")
        L.append("| chunks | sentences | sentences.npy MiB | build s | write s | memory MiB (loaded) | disk MiB | "
                 "build RSS MiB: anonymous + file-backed (peak) |")  # fmt: skip
        L.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in served:
            x = r["sentence_index"]
            L.append(f"| {r['n']:,} | {x['sentences']:,} | {x['npy_bytes'] / 2**20:,.0f} | {x['build_s']:.1f} | "
                     f"{x['index_write_s']:.1f} | {sentence_index_mb(r):,.0f} | {x['bytes'] / 2**20:,.0f} | "
                     f"{x['anon_mb']:,.0f} + {x['file_mb']:,.0f} ({x['peak_mb']:,.0f}) |")  # fmt: skip
        L.append("")
        L.append("File-backed: the pages of the mapped sentences.npy that FAISS read (page cache, reclaimable).")
        L.append("")
        L.append("### Serving process (load_index for an hnsw build + Retriever; question vector given, top_k 5)")
        L.append("")
        L.append("| chunks | serving RSS MiB | of which store | sentence hnsw | Retriever.search p50 / p95 ms, "
                 "first pass | same questions again (pages cached) | of which sentence search p50 / p95 | "
                 "chunk level only p50 / p95 | sentence recall@10 | recall@depth |")  # fmt: skip
        L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in served:
            v = r["serving"]
            steps = v["rss_steps_mb"]
            ms = [v[k] for k in ("search", "search_warm", "sentence_search", "chunk_level_search")]
            L.append(f"| {r['n']:,} | {v['rss_mb']:,.0f} | {steps['store'] - steps['imports']:,.0f} | "
                     f"{sentence_index_mb(r):,.0f} | "
                     + " | ".join(f"{m['p50_ms']:.1f} / {m['p95_ms']:.1f}" for m in ms)
                     + f" | {v['sentence_recall@10']:.3f} | {v['sentence_recall@depth']:.3f} "
                     f"(depth {v['sentence_depth']}) |")  # fmt: skip
        L.append("")
        for r in served:
            v = r["serving"]
            cells = ", ".join(f"{x['efSearch']}: {x['recall@10']:.3f} / {x['recall@depth']:.3f} / {x['p95_ms']:.2f}"
                              for x in v["sentence_sweep"])  # fmt: skip
            L.append(f"- {r['n']:,}: Retriever.search top 5 agreeing with an exact sentence search "
                     f"{v['top5_agreement_with_exact_sentences']:.3f}; sentence hnsw efSearch (recall@10 / "
                     f"recall@{v['sentence_depth']} / p95 ms): {cells}")  # fmt: skip
        L.append("")
        for r in served:
            v = r["serving"]
            steps = v["rss_steps_mb"]
            names = list(steps)
            growth = ", ".join(f"{b} +{steps[b] - steps[a]:.0f}" for a, b in zip(names, names[1:], strict=False))
            L.append(f"- serving RSS at {r['n']:,} (MiB): imports {steps['imports']:.0f}, {growth}; at the end "
                     f"anonymous {v['rss_anon_mb']:,.0f}, file-backed {v['rss_file_mb']:,.0f}; Retriever() "
                     f"{v['retriever_init_s']:.1f} s; sentence recall over {v['recall_queries']} queries "
                     f"(exact pass {v['exact_sentence_pass_s']:.0f} s); load average (5 min) during the run "
                     f"{v.get('load_avg_5min', 0):.1f} on {os.cpu_count()} cores")  # fmt: skip
        L.append("")
    L.append("Disk (MiB): " + "; ".join(
        f"{r['n']:,}: " + ", ".join(f"{k} {b / 2**20:.0f}" for k, b in r["disk_bytes"].items()) for r in results
    ))  # fmt: skip
    return "\n".join(L) + "\n"


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["n"] for r in results]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 5.6))
    a1.plot(n, [r["exact"]["flat"]["p95_ms"] for r in results], "o-", label="flat (exact) search")
    for kind in results[0]["ann"]:
        shipped = [next(x for x in r["ann"][kind]["sweep"] if x["shipped"]) for r in results]
        name = SWEEP[kind][0]
        a1.plot(n, [x["p95_ms"] for x in shipped], "o-", label=f"{kind} search ({name} {shipped[-1][name]}, shipped)")
    a1.plot(n, [r["lexical"]["bm25s"]["total"]["p95_ms"] for r in results], "s--", label="BM25 (bm25s) + top-20")
    if "handwritten" in results[0]["lexical"]:
        a1.plot(n, [r["lexical"]["handwritten"]["total"]["p95_ms"] for r in results], "x:", label="BM25 hand-written")
    served = [r for r in results if r.get("serving")]
    if served:
        sn = [r["n"] for r in served]
        a1.plot(sn, [r["serving"]["search"]["p95_ms"] for r in served], "D-",
                label="Retriever.search as shipped (hnsw: chunks + sentences, BM25)")  # fmt: skip
        a1.plot(sn, [r["serving"]["search_warm"]["p95_ms"] for r in served], "D-", mfc="none",
                label="the same, questions again (chunks.npy pages cached)")  # fmt: skip
        a1.plot(sn, [r["serving"]["sentence_search"]["p95_ms"] for r in served], "D:",
                label="of which sentence search (hnsw, depth 60)")  # fmt: skip
        a1.plot(sn, [r["serving"]["chunk_level_search"]["p95_ms"] for r in served], "D--",
                label="Retriever.search, chunk level only")  # fmt: skip
    a1.axhline(50, color="grey", lw=0.8, ls=":")
    a1.set(xscale="log", yscale="log", xlabel="chunks", ylabel="p95 latency, ms (no question embedding)",
           title="Query latency")  # fmt: skip
    a1.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    for kind in results[0]["ann"]:
        a2.plot(n, [r["ann"][kind]["rss_growth_mb"] for r in results], "o-", label=f"FAISS {kind} index")
    a2.plot(n, [r["exact"]["npy_bytes"] / 2**20 for r in results], "o--", label="chunk vectors .npy (a server maps it)")
    a2.plot(n, [r["lexical"]["bm25s"]["rss_growth_mb"] for r in results], "s--", label="BM25 (bm25s), loaded")
    a2.plot(n, [r["store"]["rss_with_sentence_ids_mb"] for r in results], "^--", label="store, loaded")
    if served:
        sn = [r["n"] for r in served]
        a2.plot(sn, [sentence_index_mb(r) for r in served], "o-", label="FAISS hnsw over sentences")
        a2.plot(sn, [r["serving"]["rss_mb"] for r in served], "D-", label="serving process RSS (all of it)")
    a2.set(xscale="log", yscale="log", xlabel="chunks", ylabel="MiB", title="Memory")
    a2.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.suptitle("Scale, 2 cores (beyond 22k chunks: synthetic vectors and text; all sentence vectors synthetic)",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def _threads() -> int:
    import faiss

    return faiss.omp_get_max_threads()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1e4", help="comma-separated chunk counts (default 1e4; full: 1e4,1e5,1e6)")
    ap.add_argument("--real", type=int, default=24000, help="real texts to embed and use first (cached)")
    ap.add_argument("--queries", type=int, default=1000, help="real questions used as queries")
    ap.add_argument("--kinds", default="hnsw,ivf", help="FAISS kinds (index.store.make_faiss_index)")
    ap.add_argument("--lexical-baseline", default=HANDWRITTEN_BM25, help="commit of the hand-written BM25 ('' none)")
    ap.add_argument("--recall-queries", type=int, default=200, help="queries for the sentence search's recall "
                    "(exact search reads every sentence vector once for all of them: 6 GB at 10^6)")  # fmt: skip
    ap.add_argument("--plot", type=Path, help="write the latency/memory plot here (PNG)")
    ap.add_argument("--json", type=Path, default=CACHE / "scale-results.json", help="all figures, as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the work folders (var/scale/work/)")
    ap.add_argument("--reuse", action="store_true", help="reuse figures of earlier runs' parts (needs --keep then)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](json.loads(args.child[1]))))
        return 0
    global REUSE
    REUSE = args.reuse
    args.kinds = [k for k in args.kinds.split(",") if k]
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    texts, _, _ = real_pool()
    args.real = min(args.real, len(texts), max(sizes))
    _, _, rate = real_vectors(args.real, args.queries)
    log(f"real texts {args.real:,}, encoder rate {rate:.0f} texts/s; sizes {sizes}")
    results = [measure(n, args, rate) for n in sizes]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rate": rate,
                                     "results": results}, indent=1))  # fmt: skip
    print(report(results, rate, args))
    if args.plot:
        plot(results, args.plot)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
