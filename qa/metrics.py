"""Pure metric functions: SQuAD answer scoring, retrieval ranks, latency percentiles, threshold sweeps.

Answer scoring follows the official SQuAD 1.1/2.0 evaluation script (Rajpurkar et al.): the same
normalisation, token F1 and, for unanswerable questions, the empty string as the only gold answer (so
abstaining scores 1 and any answer scores 0). Values are fractions in [0, 1]; the script prints percent.
"""

from __future__ import annotations

import collections
import math
import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (SQuAD's normalize_answer)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def get_tokens(s: str) -> list[str]:
    return normalize_answer(s).split() if s else []


def compute_exact(a_gold: str, a_pred: str) -> int:
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold: str, a_pred: str) -> float:
    gold_toks, pred_toks = get_tokens(a_gold), get_tokens(a_pred)
    if not gold_toks or not pred_toks:
        # No-answer: F1 is 1 when both are empty, else 0 (as in the SQuAD 2.0 script).
        return float(gold_toks == pred_toks)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_toks)
    recall = num_same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def gold_or_empty(answers: Sequence[str]) -> list[str]:
    """The SQuAD 2.0 script's gold list: answers that normalise to something, else [''] (no answer)."""
    kept = [a for a in answers if normalize_answer(a)]
    return kept or [""]


def best_exact(answers: Sequence[str], prediction: str) -> int:
    """EM of `prediction` ('' when abstaining) against the best-matching acceptable answer."""
    return max(compute_exact(a, prediction) for a in gold_or_empty(answers))


def best_f1(answers: Sequence[str], prediction: str) -> float:
    return max(compute_f1(a, prediction) for a in gold_or_empty(answers))


def _drop_punctuation(s: str, replacement: str) -> str:
    return "".join(replacement if ch in _PUNCT or unicodedata.category(ch).startswith("P") else ch for ch in s)


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when some answer occurs in `text` after normalisation, on token boundaries ("4" is not in "40").

    Not a SQuAD metric, so it is lenient where SQuAD's normalisation is blind: quoted text carries
    typographic quotes (“, ’) that string.punctuation lacks, and "Kering-owned" should contain "Kering"
    while "re-evaluating" should still match "reevaluating"; punctuation is tried both dropped and spaced.
    """
    answers = list(answers)
    for replacement in ("", " "):
        hay = f" {normalize_answer(_drop_punctuation(text, replacement))} "
        for a in answers:
            norm = normalize_answer(_drop_punctuation(a, replacement))
            if norm and f" {norm} " in hay:
                return True
    return False


def first_hit_rank(hits: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant item in a ranked list, None when there is none."""
    for i, hit in enumerate(hits, start=1):
        if hit:
            return i
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first relevant passage is within the top k."""
    if not ranks:
        return math.nan
    return sum(r is not None and r <= k for r in ranks) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    if not ranks:
        return math.nan
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method); nan for no values."""
    if not values:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=float), q))


def auroc(positive: Sequence[bool], score: Sequence[float]) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a random negative (ties count
    half); nan when either class is empty. Used for how well confidence separates answerable questions
    from unanswerable ones."""
    pos = [s for p, s in zip(positive, score, strict=True) if p]
    neg = [s for p, s in zip(positive, score, strict=True) if not p]
    if not pos or not neg:
        return math.nan
    ranks = _average_ranks(list(pos) + list(neg))
    return (sum(ranks[: len(pos)]) - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def _average_ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spans_overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Half-open [start, end) intervals share at least one character."""
    return a_start < b_end and b_start < a_end


@dataclass(frozen=True)
class Scored:
    """One question's outcome, enough to score it at any abstention threshold."""

    has_answer: bool
    confidence: float  # the system's confidence in its best answer
    offered: bool  # the system gave an answer at threshold 0 (False: nothing found, or an error)
    exact_if_answered: float
    f1_if_answered: float
    exact_if_abstained: float
    f1_if_abstained: float
    citation_ok: bool = False  # first citation quotes a gold answer from a gold document


@dataclass(frozen=True)
class ThresholdMetrics:
    threshold: float
    exact: float
    f1: float
    total: int
    HasAns_exact: float  # noqa: N815 - the SQuAD 2.0 script's key names
    HasAns_f1: float  # noqa: N815
    HasAns_total: int  # noqa: N815
    NoAns_exact: float  # noqa: N815
    NoAns_f1: float  # noqa: N815
    NoAns_total: int  # noqa: N815
    answered: int
    abstained: int
    citation_precision: float  # over answered answerable questions
    abstain_precision: float  # abstentions that were on unanswerable questions
    abstain_recall: float  # unanswerable questions that were abstained on
    answered_wrongly_abstained: float  # answerable questions that were abstained on


class _Arrays:
    def __init__(self, rows: Sequence[Scored]) -> None:
        self.has = np.array([r.has_answer for r in rows], dtype=bool)
        self.conf = np.array([r.confidence for r in rows], dtype=float)
        self.offered = np.array([r.offered for r in rows], dtype=bool)
        self.em_a = np.array([r.exact_if_answered for r in rows], dtype=float)
        self.f1_a = np.array([r.f1_if_answered for r in rows], dtype=float)
        self.em_x = np.array([r.exact_if_abstained for r in rows], dtype=float)
        self.f1_x = np.array([r.f1_if_abstained for r in rows], dtype=float)
        self.cite = np.array([r.citation_ok for r in rows], dtype=bool)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else math.nan


def _at(a: _Arrays, threshold: float) -> ThresholdMetrics:
    # The engine abstains when confidence < threshold, so answered means confidence >= threshold.
    answered = a.offered & (a.conf >= threshold)
    em = np.where(answered, a.em_a, a.em_x)
    f1 = np.where(answered, a.f1_a, a.f1_x)
    has, no = a.has, ~a.has
    n, n_has, n_no = len(em), int(has.sum()), int(no.sum())
    abstained = ~answered
    answered_has = answered & has
    return ThresholdMetrics(
        threshold=float(threshold),
        exact=_ratio(em.sum(), n),
        f1=_ratio(f1.sum(), n),
        total=n,
        HasAns_exact=_ratio(em[has].sum(), n_has),
        HasAns_f1=_ratio(f1[has].sum(), n_has),
        HasAns_total=n_has,
        NoAns_exact=_ratio(em[no].sum(), n_no),
        NoAns_f1=_ratio(f1[no].sum(), n_no),
        NoAns_total=n_no,
        answered=int(answered.sum()),
        abstained=int(abstained.sum()),
        citation_precision=_ratio((answered_has & a.cite).sum(), answered_has.sum()),
        abstain_precision=_ratio((abstained & no).sum(), abstained.sum()),
        abstain_recall=_ratio((abstained & no).sum(), n_no),
        answered_wrongly_abstained=_ratio((abstained & has).sum(), n_has),
    )


def metrics_at(rows: Sequence[Scored], threshold: float) -> ThresholdMetrics:
    """All threshold-dependent metrics when answers below `threshold` confidence are withheld."""
    return _at(_Arrays(rows), threshold)


def candidate_thresholds(rows: Sequence[Scored]) -> list[float]:
    """Every threshold that changes the outcome: each offered confidence, and one above them all (abstain all)."""
    confs = sorted({r.confidence for r in rows if r.offered}, reverse=True)
    top = confs[0] if confs else 0.0
    return [math.nextafter(top, math.inf), *confs] if confs else [0.0]


def sweep(rows: Sequence[Scored], thresholds: Iterable[float]) -> list[ThresholdMetrics]:
    a = _Arrays(rows)
    return [_at(a, t) for t in thresholds]


def best_threshold(rows: Sequence[Scored]) -> ThresholdMetrics:
    """The threshold maximising overall F1, like the SQuAD 2.0 script's best_f1_thresh.

    Candidates go from abstaining on everything down to answering everything; the first strict
    improvement wins, so ties go to the higher (more cautious) threshold, as in the script's scan. The
    threshold reported is the lowest confidence still answered, again as in the script.
    """
    results = sweep(rows, candidate_thresholds(rows))
    best = results[0]
    for m in results[1:]:
        if m.f1 > best.f1:
            best = m
    return best
