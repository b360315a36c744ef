"""Lexical side: a tokenizer with light stemming, and Okapi BM25 over chunks (finds names, numbers, rare words)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import Stemmer

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
    """Okapi BM25 (k1=1.5, b=0.75) with an inverted index; scoring touches only postings of query terms."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        docs = [Counter(tokens(t)) for t in texts]
        self.n = len(docs)
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.n else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for i, d in enumerate(docs):
            for term, tf in d.items():
                ids, weights = postings.setdefault(term, ([], []))
                ids.append(i)
                weights.append(tf * (k1 + 1) / (tf + norm[i]))
        self.postings = {t: (np.array(ids), np.array(w, dtype=np.float32)) for t, (ids, w) in postings.items()}
        self.idf = {t: math.log(1 + (self.n - len(ids) + 0.5) / (len(ids) + 0.5)) for t, (ids, _) in postings.items()}

    def idf_of(self, term: str) -> float:
        """IDF of a term (unseen terms get the maximum: they are the rarest)."""
        return self.idf.get(term, math.log(1 + (self.n + 0.5) / 0.5))

    def normalised_scores(self, query: str) -> np.ndarray:
        """BM25 divided by the score of an ideal passage (every query word once, average length): 0..~1."""
        terms = set(tokens(query))
        ideal = sum(self.idf_of(t) for t in terms)
        return self.scores(query) / ideal if ideal else np.zeros(self.n, dtype=np.float32)

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for term in set(tokens(query)):
            if term in self.postings:
                ids, weights = self.postings[term]
                out[ids] += self.idf[term] * weights
        return out
