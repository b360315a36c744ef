"""The metric code on hand-made cases: SQuAD normalisation and scoring, ranks, percentiles, the threshold sweep."""

from __future__ import annotations

import math
import random

import pytest

from qa import metrics
from qa.metrics import Scored


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The Cat", "cat"),
        ("a an the", ""),
        ("An apple, the pear.", "apple pear"),
        ("theatre and another", "theatre and another"),  # articles only as whole words
        ("  New\tYork \n City  ", "new york city"),
        ("$25 million!", "25 million"),
        ("re-evaluating", "reevaluating"),  # punctuation is removed, not replaced by a space
        ("“Ye”", "“ye”"),  # as in the official script: only ASCII punctuation is removed
        ("Denmark, Iceland and Norway", "denmark iceland and norway"),
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert metrics.normalize_answer(raw) == expected


def test_exact_match_ignores_case_articles_punctuation_whitespace() -> None:
    assert metrics.compute_exact("the Eiffel Tower", "Eiffel  tower.") == 1
    assert metrics.compute_exact("Eiffel Tower", "the tower") == 0


def test_f1_token_overlap() -> None:
    # gold 4 tokens, prediction 3, all shared: precision 1, recall 3/4.
    assert metrics.compute_f1("Denmark, Iceland and Norway", "Iceland and Norway") == pytest.approx(6 / 7)
    assert metrics.compute_f1("New York New York", "New York") == pytest.approx(2 / 3)  # counts, not sets
    assert metrics.compute_f1("Paris", "London") == 0.0
    assert metrics.compute_f1("", "") == 1.0  # both empty: a correct abstention
    assert metrics.compute_f1("Paris", "") == 0.0
    assert metrics.compute_f1("", "Paris") == 0.0


def test_best_over_acceptable_answers() -> None:
    answers = ["Demna", "Demna Gvasalia"]
    assert metrics.best_exact(answers, "Demna Gvasalia") == 1
    assert metrics.best_f1(answers, "creative director Demna") == pytest.approx(0.5)  # vs "Demna": P 1/3, R 1


def test_unanswerable_scores_like_squad2() -> None:
    assert metrics.best_exact([], "") == 1
    assert metrics.best_f1([], "") == 1.0
    assert metrics.best_exact([], "Paris") == 0
    assert metrics.best_f1([], "Paris") == 0.0
    # A gold answer that normalises to nothing counts as no answer, as in the script.
    assert metrics.gold_or_empty(["The", "."]) == [""]
    assert metrics.best_exact(["Paris"], "") == 0


def test_contains_answer_on_token_boundaries() -> None:
    assert metrics.contains_answer("The lawsuit was for $25 million.", ["$25 million"])
    assert not metrics.contains_answer("About 40 people came.", ["4"])
    assert metrics.contains_answer("“Fuck you, Balenciaga,’ that’s it", ["Fuck you, Balenciaga"])  # typographic quotes
    assert metrics.contains_answer("the Kering-owned French fashion brand", ["Kering"])
    assert metrics.contains_answer("she was “re-evaluating” her relationship", ["reevaluating"])
    assert not metrics.contains_answer("anything", [])


def test_ranks_recall_and_mrr() -> None:
    assert metrics.first_hit_rank([False, False, True, True]) == 3
    assert metrics.first_hit_rank([False, False]) is None
    ranks = [1, 3, None, 7]
    assert metrics.recall_at(ranks, 1) == 0.25
    assert metrics.recall_at(ranks, 5) == 0.5
    assert metrics.recall_at(ranks, 10) == 0.75
    assert metrics.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 1 / 7) / 4)
    assert math.isnan(metrics.recall_at([], 5))


def test_percentile_and_overlap() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 100.0]
    assert metrics.percentile(values, 50) == 30.0
    assert metrics.percentile(values, 95) == pytest.approx(88.0)  # linear: 40 + 0.8 * 60
    assert math.isnan(metrics.percentile([], 50))
    assert metrics.spans_overlap(0, 10, 9, 20)
    assert not metrics.spans_overlap(0, 10, 10, 20)  # half-open: touching is not overlapping


def _answerable(conf: float, f1: float, em: float | None = None, cite: bool = True) -> Scored:
    em = float(f1 == 1.0) if em is None else em
    return Scored(True, conf, True, em, f1, 0.0, 0.0, cite)


def _unanswerable(conf: float) -> Scored:
    return Scored(False, conf, True, 0.0, 0.0, 1.0, 1.0)


def test_metrics_at_a_threshold() -> None:
    rows = [
        _answerable(0.9, 1.0),
        _answerable(0.7, 0.5, em=0.0, cite=False),
        _answerable(0.3, 1.0),
        _unanswerable(0.8),
        _unanswerable(0.2),
    ]
    m = metrics.metrics_at(rows, 0.5)
    # Answered: 0.9, 0.7 (answerable) and 0.8 (unanswerable); abstained: 0.3 (answerable), 0.2 (unanswerable).
    assert (m.answered, m.abstained) == (3, 2)
    assert m.HasAns_f1 == pytest.approx((1.0 + 0.5 + 0.0) / 3)
    assert m.HasAns_exact == pytest.approx(1 / 3)
    assert m.NoAns_exact == 0.5
    assert m.f1 == pytest.approx((1.0 + 0.5 + 0.0 + 0.0 + 1.0) / 5)
    assert m.citation_precision == 0.5  # of the two answered answerable questions, one cites well
    assert m.abstain_precision == 0.5
    assert m.abstain_recall == 0.5
    assert m.answered_wrongly_abstained == pytest.approx(1 / 3)
    # Threshold 0 answers everything offered; a question with nothing offered is always an abstention.
    silent = Scored(True, 0.0, False, 0.0, 0.0, 0.0, 0.0)
    m0 = metrics.metrics_at([*rows, silent], 0.0)
    assert m0.abstained == 1 and m0.answered_wrongly_abstained == 0.25


def test_metrics_without_unanswerable_questions_are_nan_not_errors() -> None:
    m = metrics.metrics_at([_answerable(0.9, 1.0)], 0.5)
    assert math.isnan(m.abstain_recall) and math.isnan(m.NoAns_exact)
    assert m.f1 == 1.0


def test_best_threshold_hand_made() -> None:
    rows = [
        _answerable(0.9, 1.0),
        _unanswerable(0.6),
        _answerable(0.5, 1.0),
        _unanswerable(0.4),
        _unanswerable(0.3),
    ]
    best = metrics.best_threshold(rows)
    # Abstain on all: 3/5; answer {0.9}: 4/5; {0.9, 0.6}: 3/5; {0.9, 0.6, 0.5}: 4/5 (a tie, the higher wins).
    assert best.threshold == 0.9
    assert best.f1 == pytest.approx(4 / 5)
    # Abstaining on everything can be best; the threshold is then above every confidence.
    only_no = [_unanswerable(0.7), _unanswerable(0.2)]
    best = metrics.best_threshold(only_no)
    assert best.f1 == 1.0 and best.threshold > 0.7 and best.answered == 0


def test_best_threshold_ties_go_to_the_higher_threshold() -> None:
    rows = [_answerable(0.9, 1.0), _answerable(0.6, 0.0), _unanswerable(0.5)]
    # Thresholds 0.9 and 0.6 both give F1 2/3 (a wrong answer costs what abstaining costs): the higher wins.
    best = metrics.best_threshold(rows)
    assert best.threshold == 0.9


def _squad_find_best_thresh(
    preds: dict[str, str], scores: dict[str, float], na_probs: dict[str, float], has_ans: dict[str, bool]
) -> tuple[float, float]:
    """find_best_thresh from the official SQuAD 2.0 evaluation script, as a reference."""
    num_no_ans = sum(1 for k in has_ans if not has_ans[k])
    cur_score = best_score = num_no_ans
    best_thresh = 0.0
    for qid in sorted(na_probs, key=lambda k: na_probs[k]):
        cur_score += scores[qid] if has_ans[qid] else (-1 if preds[qid] else 0)
        if cur_score > best_score:
            best_score = cur_score
            best_thresh = na_probs[qid]
    return best_score / len(scores), best_thresh


def test_best_threshold_matches_the_squad2_script() -> None:
    rng = random.Random(7)
    for _ in range(50):
        n = rng.randint(1, 40)
        confs = rng.sample(range(1, 10_000), n)  # distinct, as the script's scan assumes
        rows, preds, scores, na_probs, has_ans = [], {}, {}, {}, {}
        for i, c in enumerate(confs):
            conf = c / 10_000
            answerable = rng.random() < 0.6
            f1 = rng.choice([0.0, 0.5, 1.0]) if answerable else 0.0  # exact in binary: no float-noise ties
            rows.append(Scored(answerable, conf, True, float(f1 == 1.0), f1, 0.0 if answerable else 1.0,
                               0.0 if answerable else 1.0))  # fmt: skip
            qid = str(i)
            preds[qid], scores[qid], na_probs[qid], has_ans[qid] = "x", f1, -conf, answerable
        ref_f1, ref_thresh = _squad_find_best_thresh(preds, scores, na_probs, has_ans)
        best = metrics.best_threshold(rows)
        assert best.f1 == pytest.approx(ref_f1)
        if ref_thresh != 0.0:  # the script's start value 0.0 means "abstain on everything"
            assert best.threshold == pytest.approx(-ref_thresh)
        else:
            assert best.answered == 0


def test_candidate_thresholds_and_sweep() -> None:
    rows = [_answerable(0.9, 1.0), _unanswerable(0.4), Scored(True, 0.0, False, 0, 0, 0, 0)]
    cands = metrics.candidate_thresholds(rows)
    assert cands[1:] == [0.9, 0.4] and cands[0] > 0.9
    curve = metrics.sweep(rows, [0.0, 0.5, 1.0])
    assert [m.answered for m in curve] == [2, 1, 0]


def test_auroc_counts_pairs_the_confidence_orders_rightly() -> None:
    assert metrics.auroc([True, True, False, False], [0.9, 0.8, 0.2, 0.1]) == 1.0
    assert metrics.auroc([True, True, False, False], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert metrics.auroc([True, False], [0.5, 0.5]) == 0.5  # a tie counts half
    # 3 of the 4 (positive, negative) pairs are ordered rightly
    assert metrics.auroc([True, False, True, False], [0.9, 0.7, 0.6, 0.1]) == 0.75
    assert math.isnan(metrics.auroc([True, True], [0.1, 0.2]))
