"""The extractive reader: score candidate sentences, pick the short answer span, estimate confidence."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from index.store import IndexData
from qa.lexical import BM25, STOPWORDS, normalise, stem
from qa.retrieval import Hit
from qa.spans import (
    AMOUNT,
    NAMES,
    PHRASE_FOUND,
    QUOTE,
    SENTENCE,
    Span,
    core_question,
    counted_noun,
    question_terms,
    short_answer,
)

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ScoredSentence:
    sentence_id: int
    score: float
    dense: float  # cosine(question, sentence)
    coverage: float  # idf-weighted share of the question's words present
    type_ok: bool  # holds something of the asked type
    span: Span | None  # short answer inside the sentence
    agreement: int  # other documents saying much the same
    confidence: float


@dataclass(frozen=True)
class RuleWeights:
    """Every weight and threshold of the rule reader, in one place (hand-set; seed and heldout sweeps)."""

    meaning: float = 0.45  # cosine(question, sentence) in the first-pass score
    coverage: float = 0.35  # idf-weighted share of the question's words present
    passage_rank: float = 0.05  # / (1 + rank of the retrieved passage)
    context_terms: float = 0.3  # earlier turns' words count this much of this turn's
    neighbour_coverage: float = 0.75  # coverage with the previous (or introduced next) sentence counts this much
    introduced_meaning: float = 0.9  # "On November 23, they wrote:" means what the next sentence says, nearly
    type_ok: float = 0.3  # holds something of the asked type
    span_score: float = 0.05  # per unit of the span finder's score (capped at 2)
    bound: float = 0.15  # the sentence says who did the asked-about thing, not just who was there
    phrase_bonus: float = 0.2  # a finder placed the answer (after the question's verb, a why-clause)
    fragment_penalty: float = 0.1  # questions and headline fragments are rarely answers
    missing_name_penalty: float = 0.1  # per name (at most two) the passage never mentions
    other_year_penalty: float = 0.1  # an article of another year than the one asked about
    agreement: float = 0.05  # per other document (at most two) saying the same
    agreement_similarity: float = 0.8  # sentence answers agree at this cosine or above
    common_idf: float = 0.7  # below it a word is in about half the passages or more
    confidence_slope: float = 10.0  # confidence = sigmoid(slope * (score - midpoint))
    confidence_midpoint: float = 0.62
    untyped_confidence: float = 0.6  # cap factor for a sentence without anything of the asked type


WEIGHTS = RuleWeights()

SPAN_POOL = 20  # sentences, best by meaning and words, that get the (costlier) answer-span analysis


def sentence_word_stems(index: IndexData) -> list[frozenset[str]]:
    """Stemmed words of every sentence, computed once per index so scoring a question is set lookups."""
    return [frozenset(stem(w) for w in _WORD.findall(normalise(s.text))) for s in index.sentences]


def _coverage(words: frozenset[str], terms: dict[str, float], total: float) -> float:
    return sum(w for t, w in terms.items() if t in words) / total if total else 0.0


def _span_words(sentence: str, span: Span | None) -> frozenset[str]:
    if span is None:
        return frozenset()
    return frozenset(_WORD.findall(normalise(sentence[span.start : span.end])))


_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_LOOKING_BACK = re.compile(r"\b(?:at the time|back then|initially|originally|previously|then)\b", re.I)


def named_terms(question: str) -> list[frozenset[str]]:
    """The names and numbers a question mentions (runs of capitalised words past its first word, digits;
    years left out), each as the stems of its words: a passage that mentions none of a name's words
    ("Kardashian" will do for "Kim Kardashian") is about something else, however close in meaning."""
    names: list[frozenset[str]] = []
    run: list[str] = []
    words = re.findall(r"[A-Za-z0-9][\w’'-]*|[^\sA-Za-z0-9]", core_question(question))
    for n, w in enumerate(words + ["."]):
        if n > 0 and ((w[0].isupper() and w != "I") or w[0].isdigit()):
            run.append(stem(normalise(re.sub(r"[’']s$", "", w))))
            continue
        # Years are checked against the article's date instead (`asked_year`).
        parts = frozenset(x for x in run if x and x not in STOPWORDS and not _YEAR.fullmatch(x))
        if parts:
            names.append(parts)
        run = []
    return names


def asked_year(question: str) -> str | None:
    """The year a question is pinned to ("In 2022, what ...", "... in 2024?")."""
    m = re.search(r"\b(?:in|during|of|back in|by)\s+((?:19|20)\d{2})\b", question, re.I)
    return m.group(1) if m else None


def _about_year(index: IndexData, sid: int, year: str) -> bool:
    """Whether a sentence can speak of `year`: its article is of that year, or it (or the sentence before)
    names the year, or it looks back itself ("at the time", "initially")."""
    sentence = index.sentences[sid]
    date = index.documents[sentence.doc_id].date
    if date is None or date[:4] == year:
        return True
    texts = [sentence.text]
    if sid > 0 and index.sentences[sid - 1].doc_id == sentence.doc_id:
        texts.append(index.sentences[sid - 1].text)
    if any(year in _YEAR.findall(t) for t in texts):
        return True
    return date[:4] > year and bool(_LOOKING_BACK.search(sentence.text))


def _inside_quote(index: IndexData, sid: int) -> bool:
    """A sentence in the middle of a quotation that runs over several sentences ("“We apologize. Our plush
    bear bags should not have been featured ...”"): its paragraph opened a quote mark before it and has not
    closed it."""
    sentence = index.sentences[sid]
    text = index.documents[sentence.doc_id].text
    before = text[text.rfind("\n", 0, sentence.start) + 1 : sentence.start]
    return before.count("“") > before.count("”") or before.count('"') % 2 == 1


def _introduces(index: IndexData, sid: int) -> bool:
    """A sentence that ends on a comma or colon introduces the next one (a quote, a list)."""
    return (
        index.sentences[sid].text.rstrip().endswith((",", ":"))
        and sid + 1 < len(index.sentences)
        and index.sentences[sid + 1].doc_id == index.sentences[sid].doc_id
    )


def confidence_of(score: float, type_ok: bool) -> float:
    """Squash the sentence score to 0..1; the abstention threshold on it is calibrated by `qa eval` sweeps.

    A sentence without anything of the asked type (no date for "when") can support, not answer: its
    confidence is capped well below any sensible threshold's reach unless everything else is strong.
    """
    p = 1.0 / (1.0 + math.exp(-WEIGHTS.confidence_slope * (score - WEIGHTS.confidence_midpoint)))
    return p if type_ok else WEIGHTS.untyped_confidence * p


def rank_sentences(
    index: IndexData,
    bm25: BM25,
    query_vector: np.ndarray,
    question: str,
    context: str,
    qtype: str,
    hits: list[Hit],
    stems: list[frozenset[str]],
) -> list[ScoredSentence]:
    """The best sentences of the retrieved chunks, best first (`stems`: from `sentence_word_stems`)."""
    rank_of: dict[int, int] = {}
    for hit in hits:
        for sid in index.chunk_sentence_ids[hit.chunk_id]:
            rank_of.setdefault(sid, hit.rank)
    if not rank_of:
        return []
    ids = np.fromiter(rank_of, dtype=np.int64)
    vectors = index.sentence_vectors[ids]
    dense = vectors @ query_vector

    terms = {t: bm25.idf_of(t) for t in question_terms(question)}
    if qtype == NAMES:
        terms.pop(stem("names"), None)  # the question's form, not its topic ("Balenciaga names Kim ...")
    for t in question_terms(context):  # earlier turns count, but less than this turn's words
        terms.setdefault(t, WEIGHTS.context_terms * bm25.idf_of(t))
    total = sum(terms.values())

    # Cheap first pass: meaning, words (the previous sentence counts a little: "he said on December 2"
    # answers "when did Demna apologize" with the sentence before naming Demna) and passage rank.
    first = []
    for i, sid in enumerate(ids):
        sid = int(sid)
        cov = _coverage(stems[sid], terms, total)
        if sid > 0 and index.sentences[sid - 1].doc_id == index.sentences[sid].doc_id:
            cov = max(cov, WEIGHTS.neighbour_coverage * _coverage(stems[sid] | stems[sid - 1], terms, total))
        meaning = float(dense[i])
        if _introduces(index, sid):  # "On November 23, they wrote:" means what the next sentence says
            cov = max(cov, WEIGHTS.neighbour_coverage * _coverage(stems[sid] | stems[sid + 1], terms, total))
            meaning = max(meaning, WEIGHTS.introduced_meaning * float(index.sentence_vectors[sid + 1] @ query_vector))
        first.append(
            (WEIGHTS.meaning * meaning + WEIGHTS.coverage * cov + WEIGHTS.passage_rank / (1 + rank_of[sid]), i, cov)
        )
    first.sort(key=lambda f: -f[0])

    noun = counted_noun(question) if qtype == AMOUNT else None
    year = asked_year(question)
    named = named_terms(question)
    passage_stems: dict[int, frozenset[str]] = {}
    base = []
    for score, i, cov in first[:SPAN_POOL]:
        sid = int(ids[i])
        sentence = index.sentences[sid]
        span = short_answer(sentence.text, qtype, question, context)
        type_ok = span is not None and (
            qtype != QUOTE or span.end - span.start < len(sentence.text) or _inside_quote(index, sid)
        )
        if qtype == SENTENCE:
            type_ok = True
        if type_ok and noun:
            # "How many followers": a number about something else ("three Instagram Stories") is no answer.
            type_ok = noun in stems[sid] or (sid > 0 and noun in stems[sid - 1])
        score += WEIGHTS.type_ok * type_ok
        if span is not None and qtype not in (SENTENCE, QUOTE):
            score += WEIGHTS.span_score * min(
                span.score, 2.0
            )  # a well-placed span (next to "photographer", "designer")
            if span.bound:
                score += WEIGHTS.bound  # the sentence says who did the asked-about thing, not just who was there
        elif span is not None and span.score >= PHRASE_FOUND:
            score += WEIGHTS.phrase_bonus  # shaped like an answer: a reason for "why", a role for "what role"
        if sentence.text.rstrip().endswith("?") or len(sentence.text.split()) < 4:
            score -= WEIGHTS.fragment_penalty  # questions and headline fragments are rarely answers
        if named:
            cid = sentence.chunk_id
            if cid not in passage_stems:
                passage_stems[cid] = frozenset().union(*(stems[x] for x in index.chunk_sentence_ids[cid]))
            missing = sum(not (name & (passage_stems[cid] | stems[sid])) for name in named)
            score -= WEIGHTS.missing_name_penalty * min(missing, 2)  # about someone/something else
        if year and not _about_year(index, sid, year):
            score -= (
                WEIGHTS.other_year_penalty
            )  # "in 2022, what did she say": a 2024 article's words are about 2024 unless it says so
        base.append((score, i, span, type_ok, cov))
    base.sort(key=lambda b: -b[0])

    # Agreement across documents: the same answer reported by several articles is more credible. Typed
    # answers agree when their spans name the same thing ("Demna" / "Demna Gvasalia"); sentence answers
    # when the sentences say much the same.
    top = base[:12]
    docs = [index.sentences[int(ids[b[1]])].doc_id for b in top]
    if qtype in (SENTENCE, QUOTE):
        top_vecs = vectors[[b[1] for b in top]]
        sims = top_vecs @ top_vecs.T
        agree = [[sims[a, b] >= WEIGHTS.agreement_similarity for b in range(len(top))] for a in range(len(top))]
    else:
        # A name that nearly every passage mentions ("Balenciaga" in a corpus about Balenciaga) agrees by
        # chance, not as corroboration.
        keys = [_span_words(index.sentences[int(ids[b[1]])].text, b[2]) for b in top]
        keys = [k if any(bm25.idf_of(stem(w)) >= WEIGHTS.common_idf for w in k) else frozenset() for k in keys]
        agree = [[bool(ka and kb and (ka <= kb or kb <= ka)) for kb in keys] for ka in keys]
    out = []
    for a, (score, i, span, type_ok, cov) in enumerate(top):
        agreeing = {docs[b] for b in range(len(top)) if docs[b] != docs[a] and agree[a][b]}
        bonus = WEIGHTS.agreement * min(len(agreeing), 2)
        out.append(
            ScoredSentence(
                sentence_id=int(ids[i]),
                score=score + bonus,
                dense=float(dense[i]),
                coverage=cov,
                type_ok=type_ok,
                span=span,
                agreement=len(agreeing),
                confidence=confidence_of(score + bonus, type_ok),
            )
        )
    for score, i, span, type_ok, cov in base[12:]:
        out.append(
            ScoredSentence(int(ids[i]), score, float(dense[i]), cov, type_ok, span, 0,
                           confidence_of(score, type_ok))
        )  # fmt: skip
    out.sort(key=lambda s: -s.score)
    return out
