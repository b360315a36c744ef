"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings of chunks, fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.store import IndexData
from qa.filters import Filters
from qa.lexical import BM25

RRF_K = 60  # the constant from Cormack et al. (2009); damps the influence of any single ranking


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    score: float  # fused RRF score
    dense: float  # cosine similarity of question and chunk
    lexical: float  # BM25 score
    rank: int  # 0-based rank after fusion


class Retriever:
    def __init__(self, index: IndexData) -> None:
        self.index = index
        self.bm25 = BM25([c.text for c in index.chunks])
        self.chunk_doc = [c.doc_id for c in index.chunks]

    def allowed_chunks(self, filters: Filters | None) -> np.ndarray | None:
        """Chunk ids passing the filters, or None for all."""
        if filters is None or filters.is_empty():
            return None
        docs = self.index.documents
        ok = {d for d, doc in docs.items() if filters.allows(doc)}
        return np.array([i for i, d in enumerate(self.chunk_doc) if d in ok], dtype=np.int64)

    def search(self, query_vector: np.ndarray, query_text: str, top_k: int, filters: Filters | None = None) -> list[Hit]:
        n = len(self.index.chunks)
        if n == 0:
            return []
        allowed = self.allowed_chunks(filters)
        depth = min(n, max(top_k * 4, 20))
        if allowed is None:
            sims, ids = self.index.faiss_index.search(query_vector.reshape(1, -1), depth)
            dense_ids = [int(i) for i in ids[0] if i >= 0]
            dense = dict(zip(dense_ids, (float(s) for s in sims[0]), strict=False))
            lexical_all = self.bm25.scores(query_text)
            candidates = np.arange(n)
        else:
            if len(allowed) == 0:
                return []
            # Filtered search: exact scoring of the allowed subset (filters make it small).
            sims = self.index.chunk_vectors[allowed] @ query_vector
            order = np.argsort(-sims)[:depth]
            dense_ids = [int(allowed[i]) for i in order]
            dense = {int(allowed[i]): float(sims[i]) for i in order}
            lexical_all = self.bm25.scores(query_text)
            candidates = allowed
        lex_scores = lexical_all[candidates]
        lex_order = candidates[np.argsort(-lex_scores)[:depth]]
        lexical_ids = [int(i) for i in lex_order if lexical_all[i] > 0]

        fused: dict[int, float] = {}
        for ranking in (dense_ids, lexical_ids):
            for rank, cid in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        ordered = sorted(fused, key=lambda c: -fused[c])[:top_k]
        vectors = self.index.chunk_vectors
        return [
            Hit(
                chunk_id=c,
                score=fused[c],
                dense=dense[c] if c in dense else float(vectors[c] @ query_vector),
                lexical=float(lexical_all[c]),
                rank=r,
            )
            for r, c in enumerate(ordered)
        ]
