"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings of chunks, fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.store import IndexData
from qa.filters import Filters
from qa.lexical import load_for_build, top_ids

# Convex combination of scores rather than reciprocal rank fusion: RRF throws away the margin, so a chunk
# that is the only one holding a rare name ("Charbit") ranks no higher than one sharing a common word.
# Normalising BM25 by the query's ideal score keeps it on an absolute 0..1 scale (Bruch et al., 2023).
DENSE_WEIGHT = 0.7
LEXICAL_WEIGHT = 0.3


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    score: float  # fused score
    dense: float  # cosine similarity of question and chunk
    lexical: float  # BM25 score relative to an ideal match of every query word (0..1)
    rank: int  # 0-based rank after fusion


class Retriever:
    def __init__(self, index: IndexData) -> None:
        self.index = index
        # Saved with the build (index.build) when it was made by this version; built from the texts otherwise.
        self.bm25 = load_for_build(index.build_dir, [c.text for c in index.chunks])
        self.chunk_doc = [c.doc_id for c in index.chunks]
        # Sentence vectors are searched too: one sentence answering a paraphrase gets diluted in a long
        # chunk's vector, so a chunk's meaning score is the better of its own and its best sentence's.
        # The chunks holding each sentence (two where chunks overlap), as CSR arrays: at 10^6 chunks a list
        # per sentence would cost hundreds of MB of Python objects.
        pairs = [(sid, chunk_id) for chunk_id, sids in enumerate(index.chunk_sentence_ids) for sid in sids]
        pairs.sort()
        self._sentence_chunks = np.fromiter((c for _, c in pairs), dtype=np.int64, count=len(pairs))
        counts = np.bincount(np.fromiter((s for s, _ in pairs), dtype=np.int64, count=len(pairs)),
                             minlength=len(index.sentences))  # fmt: skip
        self._sentence_chunk_starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    def allowed_chunks(self, filters: Filters | None) -> np.ndarray | None:
        """Chunk ids passing the filters, or None for all."""
        if filters is None or filters.is_empty():
            return None
        docs = self.index.documents
        ok = {d for d, doc in docs.items() if filters.allows(doc)}
        return np.array([i for i, d in enumerate(self.chunk_doc) if d in ok], dtype=np.int64)

    def search(
        self, query_vector: np.ndarray, query_text: str, top_k: int, filters: Filters | None = None
    ) -> list[Hit]:
        n = len(self.index.chunks)
        if n == 0:
            return []
        allowed = self.allowed_chunks(filters)
        depth = min(n, max(top_k * 4, 20))
        lexical = self.bm25.normalised_scores(query_text)
        by_sentence = self._best_sentence_per_chunk(query_vector, depth * 3)
        if allowed is None:
            _, ids = self.index.faiss_index.search(query_vector.reshape(1, -1), depth)
            dense_ids = ids[0][ids[0] >= 0]
            # Integer ids throughout: an empty list would make union1d's result float (no sentence hits).
            sentence_ids = np.fromiter(by_sentence, dtype=np.int64, count=len(by_sentence))
            pool = np.union1d(np.union1d(dense_ids, top_ids(lexical, depth)), sentence_ids)
        else:
            if len(allowed) == 0:
                return []
            # Filtered search scores the allowed subset exactly (filters make it small).
            pool = allowed
        dense = self.index.chunk_vectors[pool] @ query_vector
        dense = np.maximum(dense, [by_sentence.get(int(c), -1.0) for c in pool])
        fused = DENSE_WEIGHT * dense + LEXICAL_WEIGHT * lexical[pool]
        order = np.argsort(-fused)[:top_k]
        return [
            Hit(
                chunk_id=int(pool[i]),
                score=float(fused[i]),
                dense=float(dense[i]),
                lexical=float(lexical[pool[i]]),
                rank=r,
            )
            for r, i in enumerate(order)
        ]

    def nearest_sentences(self, query_vector: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """The `depth` sentences most similar to the question (ids, cosines; in no particular order): through
        the build's approximate sentence index (hnsw/ivf), else exactly over the vectors."""
        n = len(self.index.sentences)
        k = min(depth, n)
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self.index.sentence_index is not None:
            sims, ids = self.index.sentence_index.search(query_vector.reshape(1, -1), k)
            found = ids[0] >= 0
            return ids[0][found], sims[0][found]
        sims = np.asarray(self.index.sentence_vectors @ query_vector)
        ids = np.argpartition(-sims, k - 1)[:k] if k < n else np.arange(n)
        return ids, sims[ids]

    def _best_sentence_per_chunk(self, query_vector: np.ndarray, depth: int) -> dict[int, float]:
        best: dict[int, float] = {}
        starts, owners = self._sentence_chunk_starts, self._sentence_chunks
        for sid, sim in zip(*self.nearest_sentences(query_vector, depth), strict=True):
            for chunk_id in owners[starts[sid] : starts[sid + 1]].tolist():
                best[chunk_id] = max(best.get(chunk_id, -1.0), float(sim))
        return best
