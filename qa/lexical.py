"""Lexical side: a tokenizer with light stemming, and Okapi BM25 over chunks (finds names, numbers, rare words).

BM25 itself is bm25s's (a sparse document x term matrix of precomputed scores, built with numpy, saved and
loaded as .npy files); the tokens it indexes are this module's, so stemming and stopwords stay ours.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from index.store import fsync_path, sha256_file

log = logging.getLogger(__name__)
# bm25s sets its logger to DEBUG, which a root handler would then print ("Building index from IDs", ...).
logging.getLogger("bm25s").setLevel(logging.WARNING)

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "s",
        "t",
        "can",
        "will",
        "just",
        "don",
        "should",
        "now",
        "i",
        "me",
        "my",
        "myself",
        "we",
        "our",
        "ours",
        "ourselves",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "it",
        "its",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
        "what",
        "which",
        "who",
        "whom",
        "this",
        "that",
        "these",
        "those",
        "am",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "would",
        "could",
        "ought",
        "i'm",
        "you're",
        "he's",
        "she's",
        "it's",
        "we're",
        "they're",
        "i've",
        "you've",
        "we've",
        "they've",
        "i'd",
        "you'd",
        "he'd",
        "she'd",
        "we'd",
        "they'd",
        "i'll",
        "you'll",
        "he'll",
        "she'll",
        "we'll",
        "they'll",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "hasn't",
        "haven't",
        "hadn't",
        "doesn't",
        "don't",
        "didn't",
        "won't",
        "wouldn't",
        "shan't",
        "shouldn't",
        "can't",
        "cannot",
        "couldn't",
        "mustn't",
        "let's",
        "that's",
        "who's",
        "what's",
        "here's",
        "there's",
        "when's",
        "where's",
        "why's",
        "how's",
        "as",
        "until",
        "while",
        "also",
        "say",
        "said",
        "says",
        "tell",
        "told",
        "much",
        "many",
    ]
)

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball English stem, so apology/apologize/apologizing and become/becoming match."""
    return _STEMMER.stemWord(word)


def normalise(text: str) -> str:
    return text.lower().replace("’", "'").replace("‘", "'")


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    words = _TOKEN.findall(normalise(text).replace("'s ", " "))
    return [stem(w) for w in words if keep_stopwords or w not in STOPWORDS]


class BM25:
    """Okapi BM25 (k1=1.5, b=0.75, Lucene's idf) over `tokens()` of each text, on bm25s's sparse matrix.

    Scores are those of the classic formula idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len)),
    each query term counted once; a query costs one pass over the postings of its terms."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.n = len(texts)
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in tokens(text)] for text in texts]
        self._engine: bm25s.BM25 | None = None
        if vocab:
            self._engine = bm25s.BM25(k1=k1, b=b, method="lucene")
            self._engine.index((ids, vocab), create_empty_token=False, show_progress=False)
        self._setup()

    def _setup(self) -> None:
        engine = self._engine
        self.vocab: dict[str, int] = engine.vocab_dict if engine is not None else {}
        indptr = engine.scores["indptr"] if engine is not None else np.zeros(1, dtype=np.int64)
        self._df = np.diff(indptr).astype(np.int64)  # documents holding each term

    def idf_of(self, term: str) -> float:
        """IDF of a term (unseen terms get the maximum: they are the rarest)."""
        i = self.vocab.get(term)
        df = 0 if i is None else int(self._df[i])
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def normalised_scores(self, query: str) -> np.ndarray:
        """BM25 divided by the score of an ideal passage (every query word once, average length): 0..~1."""
        terms = set(tokens(query))
        ideal = sum(self.idf_of(t) for t in terms)
        return self.scores(query) / ideal if ideal else np.zeros(self.n, dtype=np.float32)

    def scores(self, query: str) -> np.ndarray:
        ids = sorted({self.vocab[t] for t in tokens(query) if t in self.vocab})
        if self._engine is None or not ids:
            return np.zeros(self.n, dtype=np.float32)
        # bm25s leaves out the constant (k1 + 1) of the numerator: put back, so 1 = one idf's worth.
        return self._engine.get_scores_from_ids(ids) * np.float32(self.k1 + 1)

    def save(self, folder: Path) -> None:
        """Write the index into `folder`, durably: bm25s's .npy and JSON files, then META (our tokenizer's
        signature, each file's size and checksum) last, so a folder with META in it is complete."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / META).unlink(missing_ok=True)
        if self._engine is not None:
            self._engine.save(folder, show_progress=False)
        files = {p.name: {"bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in sorted(folder.iterdir())}
        for name in files:
            fsync_path(folder / name)
        meta = {"n": self.n, "k1": self.k1, "b": self.b, "empty": self._engine is None, "tokens": TOKENS_SIGNATURE,
                "files": files}  # fmt: skip
        with (folder / META).open("w") as f:
            f.write(json.dumps(meta))
            f.flush()
            os.fsync(f.fileno())
        fsync_path(folder)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> BM25:
        """An index written by `save`, its files checked against META. ValueError (or OSError) when it is
        incomplete, altered or made by another tokenizer: rebuild it from the texts then.
        `mmap`: leave the score arrays on disk, paged in as queries touch them."""
        meta = json.loads((folder / META).read_text())
        if meta.get("tokens") != TOKENS_SIGNATURE:
            raise ValueError("made with another tokenizer")
        for name, want in meta["files"].items():
            path = folder / name
            if path.stat().st_size != want["bytes"] or sha256_file(path) != want["sha256"]:
                raise ValueError(f"{name} is truncated or altered")
        self = cls.__new__(cls)
        self.k1, self.b, self.n = float(meta["k1"]), float(meta["b"]), int(meta["n"])
        self._engine = None
        if not meta["empty"]:
            self._engine = bm25s.BM25.load(folder, mmap=mmap, show_progress=False)
            scores = self._engine.scores
            scores["num_docs"] = self.n
            if len(scores["indptr"]) != len(self._engine.vocab_dict) + 1 or scores["indptr"][-1] != len(
                scores["indices"]
            ):
                raise ValueError("vocabulary and matrix differ")
        self._setup()
        return self


def save_with_build(build_dir: Path, texts: Sequence[str]) -> None:
    """BM25 over a build's chunk texts, saved into the build folder (index.build calls it before publishing)."""
    BM25(texts).save(build_dir / LEXICAL_DIR)


def load_for_build(build_dir: Path | None, texts: Sequence[str]) -> BM25:
    """The BM25 saved with a build when it is there and sound, else one built from `texts` (builds made before
    it was saved, or with another tokenizer: same scores, only slower to load)."""
    folder = build_dir / LEXICAL_DIR if build_dir is not None else None
    if folder is not None and (folder / META).is_file():
        try:
            bm25 = BM25.load(folder)
            if bm25.n == len(texts):
                return bm25
            log.warning("BM25 index in %s is for %d chunks, not %d: rebuilding it", folder, bm25.n, len(texts))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("BM25 index in %s cannot be used (%s): rebuilding it", folder, exc)
    return BM25(texts)


def top_ids(scores: np.ndarray, k: int) -> np.ndarray:
    """Ids of the (at most) k highest positive scores, in no particular order: O(n), not a full sort."""
    if k <= 0 or not len(scores):
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[scores[top] > 0]


LEXICAL_DIR = "lexical"  # inside a build folder
META = "qa-bm25.json"
# What the saved index depends on besides its files: a change to stopwords, the token pattern or the stemmer
# makes older saved indexes unusable (load refuses them, the caller rebuilds from the texts).
TOKENS_SIGNATURE = hashlib.sha256(
    "|".join([_TOKEN.pattern, "'s", " ".join(sorted(STOPWORDS)), "snowball-english", bm25s.__version__]).encode()
).hexdigest()[:16]
