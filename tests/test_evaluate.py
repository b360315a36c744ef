"""Gold readers (ours and SQuAD's), question scoring, quality bars and `qa eval` end to end."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from qa import evaluate
from qa.answer import Answer, Citation, RelatedPassage
from qa.cli import build_parser
from qa.gold import GoldError, GoldQuestion, GoldSpan, HistoryMessage, read_gold, write_squad_corpus

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
SHARED_BENCH = ROOT.parent / "shared" / "bench" / "squad2-dev-public.json"  # never copied into the repo

SEED_GOLD = ROOT / "gold" / "seed.jsonl"

TINY_SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Normans",
            "paragraphs": [
                {
                    "context": "The Normans gave their name to Normandy, a region in France.",
                    "qas": [
                        {"id": "q1", "question": "In what country is Normandy?", "is_impossible": False,
                         "answers": [{"text": "France", "answer_start": 53}, {"text": "France", "answer_start": 53},
                                     {"text": "in France", "answer_start": 50}]},
                        {"id": "q2", "question": "Who gave their name to Denmark?", "is_impossible": True,
                         "answers": [], "plausible_answers": [{"text": "Normans", "answer_start": 4}]},
                    ],
                },
                {
                    "context": "Rollo was their first ruler.",
                    "qas": [{"id": "q3", "question": "Who was the first ruler?",
                             "answers": [{"text": "Rollo", "answer_start": 0}]}],
                },
            ],
        },
        {
            "title": "Steam engine / history",
            "paragraphs": [{"context": "James Watt improved the steam engine in 1776.",
                            "qas": [{"id": "q4", "question": "When?",
                                     "answers": [{"text": "1776", "answer_start": 40}]}]}],
        },
    ],
}  # fmt: skip


def _write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


# -- gold readers -------------------------------------------------------------------------------------------


def test_squad_reader_keeps_paragraphs_apart_with_offsets(tmp_path: Path) -> None:
    gold = read_gold(_write(tmp_path / "tiny.txt", json.dumps(TINY_SQUAD)))  # detected by content, not name
    assert gold.format == "squad" and [q.id for q in gold.questions] == ["q1", "q2", "q3", "q4"]
    normans, steam = gold.documents
    contexts = [p["context"] for p in TINY_SQUAD["data"][0]["paragraphs"]]
    assert normans.text == "\n\n".join(contexts)
    assert [normans.text[s:e] for s, e in normans.paragraphs] == contexts
    assert steam.doc_id == "squad-001-Steam_engine_history"
    q1, q2, q3, q4 = gold.questions
    assert q1.answers == ["France", "in France"]  # duplicates dropped, order kept
    assert q1.kind == "factoid" and q1.doc_ids == [normans.doc_id]
    assert q2.answers == [] and q2.kind == "unanswerable" and not q2.has_answer
    assert q3.paragraphs == [GoldSpan(normans.doc_id, *normans.paragraphs[1])]
    span = q3.paragraphs[0]
    assert normans.text[span.start : span.end].startswith("Rollo")
    assert q4.answers == ["1776"]


def test_squad_corpus_is_readable_by_the_indexer(tmp_path: Path) -> None:
    from index.documents import read_corpus

    gold = read_gold(_write(tmp_path / "tiny.json", json.dumps(TINY_SQUAD)))
    write_squad_corpus(gold, tmp_path / "corpus")
    read = read_corpus(tmp_path / "corpus")
    assert not read.errors and not read.skipped
    assert {d.doc_id: d.text for d in read.documents} == {d.doc_id: d.text for d in gold.documents}
    assert gold.corpus_hash() == read_gold(tmp_path / "tiny.json").corpus_hash()


def test_jsonl_reader_and_its_errors(tmp_path: Path) -> None:
    good = {"id": "a", "question": "Who?", "answers": ["Demna"], "doc_ids": ["d1"], "kind": "factoid"}
    gold = read_gold(_write(tmp_path / "g.jsonl", json.dumps(good) + "\n\n// a comment\n"))
    assert gold.format == "jsonl" and gold.questions[0].answers == ["Demna"]
    bad_lines = {
        "kind must be one of": {**good, "kind": "trivia"},
        "unanswerable questions, and only they": {**good, "answers": []},
        "needs history": {**good, "kind": "follow-up"},
        "needs doc_ids": {**good, "doc_ids": []},
        "unknown field": {**good, "answer": "typo"},
    }
    for message, record in bad_lines.items():
        path = _write(tmp_path / "bad.jsonl", json.dumps(good) + "\n" + json.dumps({**record, "id": "b"}) + "\n")
        with pytest.raises(GoldError, match=message) as info:
            read_gold(path)
        assert "bad.jsonl:2" in str(info.value)
    with pytest.raises(GoldError, match="duplicate id"):
        read_gold(_write(tmp_path / "dup.jsonl", json.dumps(good) + "\n" + json.dumps(good) + "\n"))


def test_seed_gold_file_is_well_formed() -> None:
    gold = read_gold(SEED_GOLD)
    texts = {p.stem: p.read_text(encoding="utf-8") for p in SEED_CORPUS.glob("*.txt")}
    kinds = [q.kind for q in gold.questions]
    assert len(gold.questions) >= 40
    assert kinds.count("unanswerable") >= 8
    assert set(kinds) == {"factoid", "quote", "paraphrase", "temporal", "follow-up", "unanswerable"}
    for q in gold.questions:
        assert set(q.doc_ids) <= set(texts), q.id
        for answer in q.answers:  # verbatim from a supporting article
            assert any(answer in texts[d] for d in q.doc_ids), (q.id, answer)
    follow_ups = {q.question: q for q in gold.questions if q.history}
    for question in ("How did he apologize?", "How much was it for?", "Who photographed her for it?"):
        assert [m.role for m in follow_ups[question].history] == ["user", "assistant"]


@pytest.mark.skipif(not SHARED_BENCH.exists(), reason="../shared/bench/squad2-dev-public.json is not here")
def test_shared_squad2_dev_subset_reads_consistently(tmp_path: Path) -> None:
    from index.documents import read_corpus

    gold = read_gold(SHARED_BENCH)
    assert gold.format == "squad"
    assert sum(len(d.paragraphs) for d in gold.documents) == 294
    assert len(gold.questions) == 2805
    assert sum(not q.has_answer for q in gold.questions) == 1527
    texts = {d.doc_id: d.text for d in gold.documents}
    for q in gold.questions:
        span = q.paragraphs[0]
        paragraph = texts[span.doc_id][span.start : span.end]
        assert all(a in paragraph for a in q.answers), q.id
    write_squad_corpus(gold, tmp_path / "corpus")
    assert len(read_corpus(tmp_path / "corpus").documents) == len(gold.documents)


# -- scoring one question -----------------------------------------------------------------------------------


def _citation(doc_id: str, start: int, end: int, quote: str) -> Citation:
    return Citation(index=1, doc_id=doc_id, title="t", date=None, source=None, chunk_id=0, start=start, end=end,
                    quote=quote)  # fmt: skip


def _related(doc_id: str, start: int, end: int) -> RelatedPassage:
    return RelatedPassage(doc_id=doc_id, title="t", date=None, chunk_id=0, start=start, end=end, text="", score=0.5)


def _answer(text: str | None, confidence: float, citations: list[Citation], related: list[RelatedPassage]) -> Answer:
    return Answer(question="q", resolved_question="q", answer=text, sentence=text, confidence=confidence,
                  abstained=text is None, answer_type="sentence", citations=citations, reply="",
                  related=related)  # fmt: skip


def test_score_question_paragraph_retrieval_and_citation() -> None:
    q = GoldQuestion(id="x", question="Who?", answers=["Rollo"], doc_ids=["d"], paragraphs=[GoldSpan("d", 100, 200)])
    related = [_related("d", 0, 100), _related("e", 100, 200), _related("d", 150, 300)]
    good = _answer("Rollo", 0.8, [_citation("d", 120, 160, "Rollo was their first ruler.")], related)
    row = evaluate.score_question(q, good.to_dict(), 12.0, None)
    assert row.retrieval_rank == 3  # [0,100) only touches the paragraph; another document does not count
    assert row.citation_ok and row.exact_if_answered == 1.0 and row.exact_if_abstained == 0.0
    wrong_place = _answer("Rollo", 0.8, [_citation("d", 10, 50, "Rollo was their first ruler.")], related)
    assert not evaluate.score_question(q, wrong_place.to_dict(), 1.0, None).citation_ok
    unanswerable = GoldQuestion(id="y", question="Why?", answers=[], kind="unanswerable")
    row = evaluate.score_question(unanswerable, good.to_dict(), 1.0, None)
    assert row.retrieval_rank is None and not row.citation_ok
    assert (row.exact_if_answered, row.exact_if_abstained) == (0.0, 1.0)
    failed = evaluate.score_question(q, None, 1.0, "HTTP 500: boom")
    assert not failed.offered and failed.error == "HTTP 500: boom"


# -- quality bars and the command ---------------------------------------------------------------------------


def test_check_bounds() -> None:
    summary = {"configured": {"f1": 0.8, "abstain_recall": None, "answered_wrongly_abstained": 0.2},
               "retrieval": {"recall@5": 0.95}, "latency_ms": {"p95": 40.0}}  # fmt: skip
    assert evaluate.check_bounds(summary, {"min-f1": 0.8, "min-recall-at-5": 0.9, "max-latency-p95": 50}) == []
    failed = evaluate.check_bounds(
        summary, {"min-f1": 0.85, "max-answered-wrongly-abstained": 0.1, "min-abstain-recall": 0.5, "min-mrr": None}
    )
    assert len(failed) == 3
    assert failed[0].startswith("--min-f1 0.85: configured.f1 is 0.8")
    assert "could not be measured" in failed[1]


class _FakeEngine:
    """Answers from a dict; stands in for Engine to test the command glue without the model."""

    def __init__(self, answers: dict[str, tuple[str | None, float, str]]) -> None:
        self.answers = answers
        self.index = SimpleNamespace(documents={"d1": None})
        self.calls: list[dict[str, Any]] = []

    def ask(self, question: str, **kwargs: Any) -> Answer:
        self.calls.append({"question": question, **kwargs})
        text, conf, quote = self.answers[question]
        return _answer(text, conf, [_citation("d1", 0, len(quote), quote)], [_related("d1", 0, 100)])


def _gold_file(tmp_path: Path) -> Path:
    rows = [
        {"id": "a", "question": "Who leads?", "answers": ["Demna"], "doc_ids": ["d1"], "kind": "factoid"},
        {"id": "b", "question": "How did he apologize?", "answers": ["on Instagram"], "doc_ids": ["d1"],
         "kind": "follow-up", "history": [{"role": "user", "content": "Who leads?"},
                                          {"role": "assistant", "content": "Demna [1]."}]},
        {"id": "c", "question": "How much was she paid?", "answers": [], "kind": "unanswerable"},
    ]  # fmt: skip
    return _write(tmp_path / "mini.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")


def test_eval_command_exit_status_follows_the_bounds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qa.settings import Settings

    engine = _FakeEngine({
        "Who leads?": ("Demna", 0.9, "Demna leads."),
        "How did he apologize?": ("on Instagram", 0.7, "He apologized on Instagram."),
        "How much was she paid?": ("three", 0.55, "There were three stories."),
    })  # fmt: skip
    settings = Settings.from_env(env={}, abstain_threshold=0.6)
    base = ["eval", "--gold", str(_gold_file(tmp_path)), "--out", str(tmp_path / "out"), "--no-progress"]
    ns = build_parser().parse_args([*base, "--min-f1", "0.9", "--min-citation-precision", "1"])
    assert evaluate.run_eval_command(ns, settings, engine=engine) == 0  # type: ignore[arg-type]
    call = engine.calls[1]
    assert call["threshold"] == 0.0 and call["top_k"] == 10 and call["history"][0]["role"] == "user"
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["configured"]["f1"] == 1.0 and results["configured"]["abstain_recall"] == 1.0
    assert results["best"]["f1"] == 1.0 and results["retrieval"]["recall@1"] == 1.0

    # At threshold 0.5 the unanswerable question gets answered: F1 2/3, abstain recall 0.
    ns = build_parser().parse_args([*base, "--threshold", "0.5", "--top-k", "3", "--min-f1", "0.9",
                                    "--min-abstain-recall", "0.8", "--min-recall-at-5", "0.5"])  # fmt: skip
    capsys.readouterr()
    assert evaluate.run_eval_command(ns, settings.with_(abstain_threshold=0.5), engine=engine) == 1  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "--min-f1 0.9" in err and "--min-abstain-recall 0.8" in err and "recall-at-5" not in err
    assert engine.calls[-1]["top_k"] == 3


def test_http_asker_sends_what_a_client_sends() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append({"path": request.url.path, **body})
        if body["question"] == "bad":
            return httpx.Response(422, json={"detail": "question is empty"})
        return httpx.Response(200, json=_answer("Demna", 0.9, [], []).to_dict())

    ask = evaluate.http_asker("http://qa.test/", 5.0, transport=httpx.MockTransport(handler))
    q = GoldQuestion(id="a", question="How did he apologize?", answers=["x"], doc_ids=["d"], kind="follow-up",
                     history=[HistoryMessage("user", "Who?")])  # fmt: skip
    assert ask(q, 10)["answer"] == "Demna"
    assert seen[0] == {"path": "/api/ask", "question": "How did he apologize?", "top_k": 10, "threshold": 0.0,
                       "history": [{"role": "user", "content": "Who?"}]}  # fmt: skip
    with pytest.raises(evaluate.AskError, match="HTTP 422"):
        ask(GoldQuestion(id="b", question="bad", answers=[], kind="unanswerable"), 10)


# -- end to end, real model and index -------------------------------------------------------------------------


def test_qa_eval_on_the_seed_gold(engine, settings, tmp_path: Path) -> None:
    out = tmp_path / "seed-eval"
    ns = build_parser().parse_args(["eval", "--gold", str(SEED_GOLD), "--out", str(out), "--no-progress"])
    assert evaluate.run_eval_command(ns, settings, engine=engine) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    report = (out / "report.md").read_text(encoding="utf-8")
    assert (out / "thresholds.png").read_bytes().startswith(b"\x89PNG")
    assert "| recall@1 | recall@5 |" in report
    n = len(read_gold(SEED_GOLD).questions)
    assert results["questions"] == n and len(results["rows"]) == n and results["errors"] == 0
    c, best = results["configured"], results["best"]
    assert c["threshold"] == engine.threshold  # unset in settings: the reader's calibrated threshold
    assert 0.0 <= c["f1"] <= 1.0 and best["f1"] >= c["f1"]
    assert c["answered"] + c["abstained"] == n
    assert results["retrieval"]["unit"] == "document" and results["retrieval"]["recall@10"] >= 0.9
    assert results["latency_ms"]["p50"] > 0
    row = results["rows"][0]
    assert {"question", "expected", "got", "confidence", "f1", "citation", "retrieval_rank"} <= set(row)


def test_qa_eval_through_the_http_api_matches_the_python_api(live_server, engine, settings, tmp_path: Path) -> None:
    """`--url` asks the running server; on the same corpus it must score what the Python API scores."""
    runs = {}
    for mode, extra in (("http", ["--url", live_server.url]), ("python", [])):
        out = tmp_path / mode
        args = ["eval", "--gold", str(SEED_GOLD), "--out", str(out), "--limit", "12", "--no-progress", *extra]
        assert evaluate.run_eval_command(build_parser().parse_args(args), settings, engine=engine) == 0
        runs[mode] = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert runs["http"]["mode"].startswith("HTTP") and runs["http"]["errors"] == 0
    for h, p in zip(runs["http"]["rows"], runs["python"]["rows"], strict=True):
        assert (h["id"], h["got"], h["retrieval_rank"]) == (p["id"], p["got"], p["retrieval_rank"])
        assert h["confidence"] == pytest.approx(p["confidence"], abs=0.01)
