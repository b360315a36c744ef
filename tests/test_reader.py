"""The reader interface and the trained reader, with the real shipped model: span decoding, windows mapped
back to document offsets, the no-answer path, reader selection, loading errors and training."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from qa.conversation import Message
from qa.reading import analyse_question
from qa.span_decoding import decode_window, passage_offsets

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models" / "reader"


# -- pure parts: decoding and question analysis ------------------------------------------------------------
def test_decode_window_picks_the_best_valid_span_inside_the_passage() -> None:
    # tokens: [CLS] q q [SEP] p0 p1 p2 p3 [SEP]; passage offsets only for p0..p3
    offsets = [None, None, None, None, (0, 3), (4, 9), (10, 12), (13, 20), None]
    start = np.array([1.0, 9.0, 0, 0, 0.5, 6.0, 0.1, 0.2, 0])  # the question token's 9.0 must be ignored
    end = np.array([1.0, 0, 9.0, 0, 0.1, 0.3, 5.0, 0.4, 0])
    spans = decode_window(start, end, offsets)
    assert (spans[0].start, spans[0].end) == (4, 12)  # p1..p2
    assert spans[0].score == pytest.approx(11.0)
    assert spans[0].null_score == pytest.approx(2.0)
    assert all(s.start < s.end for s in spans)


def test_decode_window_never_ends_before_it_starts_or_runs_too_long() -> None:
    offsets = [None] + [(i * 2, i * 2 + 1) for i in range(40)]
    start = np.zeros(41)
    end = np.zeros(41)
    start[35], end[2] = 10.0, 10.0  # the best start is after the best end
    end[36] = 1.0
    spans = decode_window(start, end, offsets, max_answer_tokens=5)
    assert spans and all(s.end > s.start for s in spans)
    assert all((s.end - s.start) <= 2 * 5 for s in spans)
    assert (spans[0].start, spans[0].end) == (68, 71)  # tokens 35..36


def test_decode_window_never_returns_a_span_across_a_seam() -> None:
    offsets = [None, (0, 5), (6, 10), (12, 16), (17, 22), None]  # a seam at 12: "xxxxx yyyy\n\nzzzz wwwww"
    start = np.array([0.0, 0.0, 9.0, 1.0, 0.0, 0.0])
    end = np.array([0.0, 0.0, 0.0, 0.5, 9.0, 0.0])  # the best span by score runs from 6 to 22, across the seam
    assert (decode_window(start, end, offsets)[0].start, decode_window(start, end, offsets)[0].end) == (6, 22)
    spans = decode_window(start, end, offsets, seams=[12])
    assert spans and all(s.end <= 12 or s.start >= 12 for s in spans)
    assert (spans[0].start, spans[0].end) == (12, 22)


def test_a_chunk_is_read_with_its_articles_byline_and_maps_back_exactly(seed_index_dir: Path) -> None:
    from index.store import load_index
    from qa.reader_passages import reader_passage

    index = load_index(seed_index_dir)
    [(doc_id, [byline_id])] = index.bylines.items()  # one seed article has a byline: "Written by Keshaa Perry"
    byline = index.sentences[byline_id]
    assert byline.text == "Written by Keshaa Perry"
    doc = index.documents[doc_id].text
    holding = [c for c in index.chunks if c.doc_id == doc_id and c.start <= byline.start and byline.end <= c.end]
    others = [c for c in index.chunks if c.doc_id == doc_id and c not in holding]
    assert holding and others
    for chunk in holding:  # the chunk that holds it reads as it is
        p = reader_passage(index, chunk.chunk_id)
        assert p.text == chunk.text and p.seams == ()
    for chunk in others:
        p = reader_passage(index, chunk.chunk_id)
        assert p.text.startswith(chunk.text) and p.text.endswith("Written by Keshaa Perry")
        assert len(p.seams) == 1
        name = p.text.rindex("Keshaa Perry")
        chunk_id, start, end = p.locate(name, name + len("Keshaa Perry"))
        assert doc[start:end] == "Keshaa Perry" and chunk_id == byline.chunk_id
        assert index.chunks[chunk_id].start <= start < end <= index.chunks[chunk_id].end
        first = p.text.index(" ")
        assert p.locate(0, first) == (chunk.chunk_id, chunk.start, chunk.start + first)
        assert doc[chunk.start : chunk.start + first] == p.text[:first]
        assert p.locate(first, name + 6) is None  # across the seam: not one stretch of the document
    for chunk in (c for c in index.chunks if c.doc_id != doc_id):  # articles without a byline: the chunk alone
        assert reader_passage(index, chunk.chunk_id).text == chunk.text


def test_passage_offsets_keep_only_the_passage() -> None:
    assert passage_offsets([(0, 0), (0, 3), (0, 0), (0, 4), (5, 7), (0, 0)], [None, 0, None, 1, 1, None]) == [
        None, None, None, (0, 4), (5, 7), None,
    ]  # fmt: skip


def test_follow_up_pronoun_is_replaced_by_the_name_for_the_reader() -> None:
    history = [Message("user", "Who is Balenciaga's creative director?"), Message("assistant", "Demna [1]")]
    q = analyse_question("When did he apologize?", history)
    assert q.reader_text == "When did Demna apologize?"
    assert "Demna" in q.search_text
    assert q.qtype == "date"
    plain = analyse_question("Who founded the brand?", [])
    assert plain.reader_text == plain.text == plain.search_text


# -- the trained model ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def span_model():
    from qa.span_reader import SpanModel

    return SpanModel(MODEL_DIR)


def test_long_passage_is_read_in_windows_that_map_back_to_its_characters(span_model) -> None:
    from qa.span_reader import MAX_LENGTH

    filler = "The committee met again on Tuesday and discussed the budget for the coming year at length. "
    passage = filler * 45 + "The old stone bridge was designed by Margarethe Vollmer in 1911. " + filler * 3
    n_tokens = len(span_model.tokenizer(passage)["input_ids"])
    assert n_tokens > 2 * MAX_LENGTH  # the answer sits in a later window, not the first
    spans = span_model.read("Who designed the old stone bridge?", ["Nothing to see here.", passage])
    best = spans[0]
    assert best.passage == 1
    assert passage[best.start : best.end] == "Margarethe Vollmer"


def test_a_windows_reading_does_not_depend_on_what_else_is_read(span_model) -> None:
    """int8 dynamic quantisation scales activations over a whole model call: each window is read in its own
    call, so its spans and scores are the same alone or beside other (longer, padded) passages."""
    passage = "Anna wrote the letter in Vienna in 1911, and Ben posted it the next morning."
    longer = "The committee met again on Tuesday and discussed the budget for the coming year at length. " * 6
    before = span_model.windows
    alone = span_model.read("Who wrote the letter?", [passage])
    beside = [s for s in span_model.read("Who wrote the letter?", [longer, passage, "Carl read it."]) if s.passage == 1]
    assert span_model.windows - before == 4  # one model call per window
    assert passage[alone[0].start : alone[0].end] == "Anna"
    assert [(s.start, s.end, s.score, s.null_score) for s in beside] == [
        (s.start, s.end, s.score, s.null_score) for s in alone
    ]


def test_windows_read_side_by_side_on_lanes_score_as_on_one_session(span_model) -> None:
    """With ONNX Runtime several windows are spread over single-threaded lanes: each lane reads some, and every
    span and score is the one a single session gives (bit for bit: the answer does not depend on the lane)."""
    from qa.span_reader import SpanModel

    passages = [
        "Anna wrote the letter in Vienna in 1911, and Ben posted it the next morning.",
        "The committee met again on Tuesday and discussed the budget for the coming year at length. " * 8,
        "Carl read the letter aloud to the family in the kitchen.",
    ]
    laned = SpanModel(MODEL_DIR, threads=2, runtime="onnx", lanes=2)
    single = SpanModel(MODEL_DIR, threads=2, runtime="onnx", lanes=1)
    assert (laned.lanes, single.lanes, span_model.lanes) == (2, 1, 1)  # torch (the fixture) reads without lanes
    spans = laned.read("Who wrote the letter?", passages)
    assert all(n > 0 for n in laned.lane_windows) and sum(laned.lane_windows) == laned.windows == 3
    expected = single.read("Who wrote the letter?", passages)
    assert single.lane_windows == [] and single.windows == 3
    assert [(s.passage, s.start, s.end, s.score, s.null_score) for s in spans] == [
        (s.passage, s.start, s.end, s.score, s.null_score) for s in expected
    ]
    assert spans[0].passage == 0 and passages[0][spans[0].start :].startswith("Anna")
    lone = laned.windows
    laned.read("Who wrote the letter?", passages[:1])  # a lone window: the model's own threads, not a lane
    assert laned.windows == lone + 1 and sum(laned.lane_windows) == 3

    # A lane that fails: the caller gets the error (no hang), and the next question is read as before.
    working = laned._lane_run

    def broken(*args: object) -> None:
        raise RuntimeError("lane failed")

    laned._lane_run = broken
    outcome: list[BaseException] = []

    def ask() -> None:
        try:
            laned.read("Who wrote the letter?", passages)
        except RuntimeError as exc:
            outcome.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    asker.join(timeout=60)
    assert not asker.is_alive() and [str(e) for e in outcome] == ["lane failed"]
    laned._lane_run = working
    again = laned.read("Who wrote the letter?", passages)
    assert [(s.start, s.end, s.score) for s in again] == [(s.start, s.end, s.score) for s in spans]


def test_engine_answers_with_the_trained_reader_and_exact_offsets(engine) -> None:
    assert engine.reader.name == "trained"
    a = engine.ask("How much was the lawsuit Balenciaga filed against the set designer?")
    assert not a.abstained
    assert "25 million" in a.answer
    doc = engine.index.documents[a.citations[0].doc_id].text
    assert doc[a.answer_start : a.answer_end] == a.answer
    c = a.citations[0]
    assert doc[c.start : c.end] == c.quote
    assert c.start <= a.answer_start < a.answer_end <= c.end  # the cited sentence holds the answer


def test_who_wrote_an_article_is_answered_from_its_byline_with_an_exact_citation(engine) -> None:
    """The byline sits at the article's end, in a chunk that a question about its subject does not retrieve;
    the reader reads it with each passage of the article."""
    a = engine.ask("Who wrote the piece about Kim breaking her silence on Balenciaga?")
    assert not a.abstained and a.answer == "Keshaa Perry"
    doc = engine.index.documents[a.citations[0].doc_id].text
    assert doc[a.answer_start : a.answer_end] == "Keshaa Perry"
    c = a.citations[0]
    assert doc[c.start : c.end] == c.quote == "Written by Keshaa Perry"


def test_no_answer_path_abstains_and_cites_nothing(engine) -> None:
    a = engine.ask("What is the boiling point of liquid nitrogen?")
    assert a.abstained and a.answer is None and a.citations == []
    assert a.confidence < engine.threshold
    assert a.related  # the closest passages are still offered


def test_concurrent_questions_get_the_answers_they_get_alone(engine) -> None:
    """Under load the reader's windows are read one model call each, so an answer and its confidence do not
    depend on who else is asking."""
    questions = ["Who is Demna?", "Who owns Balenciaga?", "When did Kim become an ambassador?", "Who is Kim?"] * 2
    alone = [engine.ask(q) for q in questions]
    together: list = [None] * len(questions)

    def ask(i: int) -> None:
        together[i] = engine.ask(questions[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [(a.answer, a.confidence) for a in together] == [(a.answer, a.confidence) for a in alone]


def test_reader_reads_past_the_first_passage_only_when_unsure(engine) -> None:
    """QA_READER_CONFIDENT: a sure answer in the best-ranked passage ends the reading there (one window); an
    unsure one reads the next passage too; at 1 every passage is read."""
    from qa.span_reader import SpanReader

    def read(reader: SpanReader, question: str) -> tuple[int, float]:
        q = analyse_question(question, [])
        qvec = engine.embedder.encode_query(q.search_text)
        hits = engine.retriever.search(qvec, q.search_text, len(engine.index.chunks))  # every passage, ranked
        doc = engine.index.chunks[hits[0].chunk_id].doc_id  # one article: no dates to weigh against each other
        hits = [h for h in hits if engine.index.chunks[h.chunk_id].doc_id == doc]
        windows = reader.model.windows
        spans = reader.read(q, hits, qvec)
        return reader.model.windows - windows, spans[0].confidence if spans else 0.0

    assert engine.settings.reader_confident == 0.2  # the default (training/runs/cascade-level-2026-12-07)
    folder = engine.settings.reader_folder  # the served reader's calibration with its model
    # a level between the shipped reader's confidence in the lawsuit's amount (0.47) and in anything it reads
    # for the off-topic question (under 0.01)
    cascade = SpanReader(folder, engine.index, model=engine.reader.model, passages=2, confident=0.4)
    every = SpanReader(folder, engine.index, model=engine.reader.model, passages=2, confident=1.0)
    windows, confidence = read(cascade, "How much was the lawsuit Balenciaga filed against the set designer?")
    assert windows == 1 and confidence >= 0.4
    windows, confidence = read(cascade, "What is the boiling point of liquid nitrogen?")
    assert windows == 2 and confidence < 0.4
    windows, _ = read(every, "How much was the lawsuit Balenciaga filed against the set designer?")
    assert windows == 2
    # `qa reader calibrate` and requests for several candidates read every passage
    q = analyse_question("How much was the lawsuit Balenciaga filed against the set designer?", [])
    hits = engine.retriever.search(engine.embedder.encode_query(q.search_text), q.search_text, 5)
    windows = cascade.model.windows
    cascade.candidates(q.reader_text, hits, every_passage=True)
    assert cascade.model.windows - windows == 2
    answer = engine.ask("How much was the lawsuit Balenciaga filed against the set designer?", candidates=3)
    assert len({c.answer for c in answer.candidates}) >= 2  # alternatives, not only the first passage's best


def test_passages_of_differently_dated_articles_are_always_read_together(engine) -> None:
    """The recency preference weighs answers from articles of different dates: the cascade must not stop
    before it has read them, however sure the first passage is."""
    from qa.span_reader import SpanReader

    index = engine.index
    q = analyse_question("What is Kim Kardashian's relationship with Balenciaga?", [])
    hits = engine.retriever.search(engine.embedder.encode_query(q.search_text), q.search_text, 20)
    by_date: dict[str, object] = {}
    for h in hits:
        date = index.documents[index.chunks[h.chunk_id].doc_id].date
        if date and date not in by_date:
            by_date[date] = h
    assert len(by_date) >= 2  # the seed corpus has articles of three dates
    two_dates = list(by_date.values())[:2]
    folder = engine.settings.reader_folder
    cascade = SpanReader(folder, index, model=engine.reader.model, passages=2, confident=0.0)  # always "sure"
    windows = cascade.model.windows
    cascade.candidates(q.reader_text, two_dates)
    assert cascade.model.windows - windows == 2
    same_doc = [h for h in hits if index.chunks[h.chunk_id].doc_id == index.chunks[hits[0].chunk_id].doc_id][:2]
    assert len(same_doc) == 2
    windows = cascade.model.windows
    cascade.candidates(q.reader_text, same_doc)
    assert cascade.model.windows - windows == 1  # stopped after the first


def test_passages_past_the_first_stage_are_read_only_when_it_is_unsure(engine) -> None:
    """QA_READER_PASSAGES 3 reads in two stages: the best passage (or the best two, of different dates), then
    the rest only when no span so far reaches QA_READER_CONFIDENT (training/runs/third-passage-2026-12-07)."""
    from qa.span_reader import SpanReader

    assert engine.settings.passages_read == 3 and engine.settings.corpus_style == "news"  # the default
    index, folder = engine.index, engine.settings.reader_folder

    def windows_read(reader: SpanReader, question: str, pick) -> int:
        q = analyse_question(question, [])
        hits = pick(engine.retriever.search(engine.embedder.encode_query(q.search_text), q.search_text, 20))
        before = reader.model.windows
        reader.candidates(q.reader_text, hits)
        return reader.model.windows - before

    def one_article(hits):
        doc = index.chunks[hits[0].chunk_id].doc_id
        return [h for h in hits if index.chunks[h.chunk_id].doc_id == doc][:3]

    def two_dates_first(hits):
        by_date: dict[str, object] = {}
        for h in hits:
            by_date.setdefault(index.documents[index.chunks[h.chunk_id].doc_id].date, h)
        first_two = [h for d, h in by_date.items() if d][:2]
        return first_two + [h for h in hits if h not in first_two][:1]

    cascade = SpanReader(folder, index, model=engine.reader.model, passages=3, confident=0.5)
    sure, unsure = (
        "How much was the lawsuit Balenciaga filed against the set designer?",
        "What is the boiling point of liquid nitrogen?",
    )
    assert windows_read(cascade, sure, one_article) == 1
    assert windows_read(cascade, unsure, one_article) == 3  # one, then the other two
    always_sure = SpanReader(folder, index, model=engine.reader.model, passages=3, confident=0.0)
    assert windows_read(always_sure, unsure, two_dates_first) == 2  # both dates read, the third not
    never_sure = SpanReader(folder, index, model=engine.reader.model, passages=3, confident=1.0)
    assert windows_read(never_sure, sure, two_dates_first) == 3


def test_reader_runs_the_same_without_its_traced_graph(monkeypatch) -> None:
    """Where tracing fails the reader runs the eager model: same spans."""
    import qa.span_reader
    from qa.span_reader import SpanModel

    passages = ["The company also filed a $25 million lawsuit against set designer Nicholas Des Jardi in 2022."]
    traced = SpanModel(MODEL_DIR).read("Who did the company sue?", passages)
    monkeypatch.setattr(qa.span_reader, "trace_encoder", lambda model: None)
    eager_model = SpanModel(MODEL_DIR)
    assert not eager_model.traced
    eager = eager_model.read("Who did the company sue?", passages)
    assert [(s.start, s.end) for s in eager[:3]] == [(s.start, s.end) for s in traced[:3]]
    assert abs(eager[0].score - traced[0].score) < 1e-3


def test_reader_setting_selects_the_rule_reader(settings, embedder) -> None:
    from qa.engine import Engine

    rules = Engine.load(settings.with_(reader="rules"), embedder=embedder, build=False)
    assert rules.reader.name == "rules"
    assert rules.threshold == pytest.approx(0.70)
    a = rules.ask("Who is Balenciaga's creative director?")
    doc = rules.index.documents[a.citations[0].doc_id].text
    assert doc[a.answer_start : a.answer_end] == a.answer


def test_each_server_process_gets_its_share_of_the_cores(settings, engine) -> None:
    """QA_WORKERS processes on one machine split its cores: both models' calls take cores / workers threads
    (at most 4); QA_READER_THREADS still decides the reader's."""
    import os

    from qa.engine import Engine, load_embedder
    from qa.settings import model_threads

    cores = os.cpu_count() or 1
    assert model_threads(1) == min(4, cores) and model_threads(cores) == 1 and model_threads(2 * cores) == 1
    assert engine.reader.model.threads == model_threads(1)  # one process: every core, up to 4
    assert engine.reader.model.lanes == model_threads(1)  # a lane per thread (none with one thread)
    shared = settings.with_(workers=cores)
    embedder = load_embedder(shared)
    assert embedder.runtime == "onnx" and embedder.threads == 1
    one_each = Engine.load(shared, embedder=embedder, build=False).reader.model
    assert one_each.threads == 1 and one_each.lanes == 1  # one thread: no lanes to spread windows over
    three = Engine.load(shared.with_(reader_threads=3), embedder=embedder, build=False).reader.model
    assert three.threads == 3 and three.lanes == 3  # QA_READER_THREADS: its threads, and a lane for each

    def lanes(**overrides: int) -> int:
        return Engine.load(shared.with_(**overrides), embedder=embedder, build=False).reader.model.lanes

    assert lanes(reader_threads=3, reader_lanes=1) == 1  # QA_READER_LANES=1: none, whatever the threads
    assert lanes(reader_lanes=2) == 2  # set by hand, even with one reader thread


def test_unknown_reader_is_a_clear_settings_error() -> None:
    from qa.settings import Settings

    with pytest.raises(ValueError, match="reader must be one of trained, rules"):
        Settings.from_env(env={"QA_READER": "magic"})


def test_threshold_defaults_to_the_readers_calibrated_one_for_the_corpus_style(settings, embedder) -> None:
    from qa.engine import Engine

    cal = json.loads((MODEL_DIR / "calibration.json").read_text())
    engine = Engine.load(settings.with_(reader_model=MODEL_DIR), embedder=embedder, build=False)
    assert engine.settings.corpus_style == "news"  # the default corpus's style
    assert engine.threshold == pytest.approx(cal["thresholds"]["news"])
    wiki = Engine(engine.settings.with_(corpus_style="encyclopaedia"), engine.embedder, engine.index, engine.reader)
    assert wiki.threshold == pytest.approx(cal["thresholds"]["encyclopaedia"])
    assert cal["fitted_on"] and "held-out" in cal["fitted_on"]
    assert cal["threshold_chosen_on"]["encyclopaedia"] == ["dev"]  # each style's own development questions
    assert cal["threshold_chosen_on"]["news"] == ["gold/seed.jsonl", "gold/heldout.jsonl"]


def test_the_corpus_style_decides_whether_the_same_answer_is_given(tmp_path, settings, embedder) -> None:
    from qa.engine import Engine

    folder = _copy_model(tmp_path)
    cal = json.loads((folder / "calibration.json").read_text())
    cal["thresholds"] = {"news": 0.0, "encyclopaedia": 1.0}
    (folder / "calibration.json").write_text(json.dumps(cal))
    news = Engine.load(settings.with_(reader_model=folder), embedder=embedder, build=False)
    wiki = Engine(news.settings.with_(corpus_style="encyclopaedia"), embedder, news.index, news.reader)
    q = "Who is Balenciaga's creative director?"
    answered, withheld = news.ask(q), wiki.ask(q)
    assert not answered.abstained and answered.answer
    assert withheld.abstained and withheld.confidence == pytest.approx(answered.confidence)
    # an explicit threshold still overrides the style's
    assert not Engine(wiki.settings.with_(abstain_threshold=0.0), embedder, news.index, news.reader).ask(q).abstained


def test_calibration_files_from_before_corpus_styles_serve_one_threshold_to_every_style(tmp_path) -> None:
    from qa.span_reader import Calibration, ReaderLoadError

    path = tmp_path / "calibration.json"
    old = {"features": ["margin", "score", "retrieval", "rank"], "coef": [1, 0, 0, 0], "intercept": 0, "threshold": 0.3}
    path.write_text(json.dumps(old))
    assert dict(Calibration.load(path).thresholds) == {"news": 0.3, "encyclopaedia": 0.3}
    for thresholds, problem in (({"news": 0.2}, "encyclopaedia"), ({"news": 0.2, "encyclopaedia": 1.5}, "between")):
        path.write_text(json.dumps({**old, "thresholds": thresholds}))
        with pytest.raises(ReaderLoadError, match=f"unreadable .*{problem}"):
            Calibration.load(path)


def test_the_corpus_style_picks_the_reader_unless_one_is_named(tmp_path) -> None:
    from qa.settings import Settings

    assert Settings.from_env(env={}).reader_folder == ROOT / "models" / "reader-news"  # news, the default style
    assert Settings.from_env(env={"QA_CORPUS_STYLE": "encyclopaedia"}).reader_folder == MODEL_DIR
    named = Settings.from_env(env={"QA_CORPUS_STYLE": "encyclopaedia", "QA_READER_MODEL": str(tmp_path)})
    assert named.reader_folder == tmp_path and isinstance(named.reader_model, Path)
    assert named.with_(corpus_style="news").reader_folder == tmp_path  # a named folder serves every style
    assert Settings().with_(reader_model=str(tmp_path)).reader_folder == tmp_path  # a string becomes a Path


def test_the_corpus_style_picks_how_many_passages_are_read_unless_set(engine, settings, embedder) -> None:
    from qa.engine import Engine
    from qa.settings import Settings

    assert Settings.from_env(env={}).passages_read == 3  # news
    assert Settings.from_env(env={"QA_CORPUS_STYLE": "encyclopaedia"}).passages_read == 2
    assert Settings.from_env(env={"QA_CORPUS_STYLE": "encyclopaedia", "QA_READER_PASSAGES": "4"}).passages_read == 4
    with pytest.raises(ValueError, match="reader_passages must be positive"):
        Settings.from_env(env={"QA_READER_PASSAGES": "0"})
    with pytest.raises(ValueError, match="QA_READER_PASSAGES must be an integer"):
        Settings.from_env(env={"QA_READER_PASSAGES": "three"})
    encyclopaedia = Engine.load(settings.with_(corpus_style="encyclopaedia"), embedder, build=False)
    assert encyclopaedia.reader.passages == 2
    assert engine.reader.passages == 3  # the session's engine, news


def test_each_style_reads_with_its_own_weights(settings, embedder) -> None:
    from qa.engine import Engine

    news = Engine.load(settings, embedder=embedder, build=False)
    wiki = Engine.load(settings.with_(corpus_style="encyclopaedia"), embedder=embedder, build=False)
    news_cal = json.loads((ROOT / "models" / "reader-news" / "calibration.json").read_text())
    assert news.threshold == pytest.approx(news_cal["thresholds"]["news"])
    q = "Who is Balenciaga's creative director?"
    a, b = news.ask(q), wiki.ask(q)
    assert a.confidence != b.confidence  # two models, not one read twice
    wiki_cal = json.loads((MODEL_DIR / "calibration.json").read_text())
    assert wiki.threshold == pytest.approx(wiki_cal["thresholds"]["encyclopaedia"])  # and each its own calibration


def test_unknown_corpus_style_is_a_clear_error(settings) -> None:
    from qa.settings import Settings

    with pytest.raises(ValueError, match="corpus_style must be one of news, encyclopaedia, not 'magazine'"):
        Settings.from_env(env={"QA_CORPUS_STYLE": "magazine"})
    proc = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "Who?", "--corpus-style", "magazine"],
                          cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and "invalid choice: 'magazine'" in proc.stderr


# -- loading errors ------------------------------------------------------------------------------------------
def _copy_model(tmp_path: Path, skip: tuple[str, ...] = ()) -> Path:
    out = tmp_path / "reader"
    out.mkdir()
    for f in MODEL_DIR.iterdir():
        if f.is_file() and f.name not in skip:
            (out / f.name).write_bytes(f.read_bytes())
    return out


def _weights_name() -> str:
    return "model.onnx" if (MODEL_DIR / "model.onnx").is_file() else "model.safetensors"


def test_missing_model_folder_is_a_clear_error(tmp_path) -> None:
    from qa.span_reader import ReaderLoadError, SpanModel

    with pytest.raises(ReaderLoadError, match="reader model folder not found: .*nowhere.*QA_READER_MODEL"):
        SpanModel(tmp_path / "nowhere")


def test_missing_weights_file_is_a_clear_error(tmp_path) -> None:
    from qa.span_reader import ReaderLoadError, SpanModel

    folder = _copy_model(tmp_path, skip=(_weights_name(),))
    with pytest.raises(ReaderLoadError, match="reader weights missing"):
        SpanModel(folder)


def test_damaged_weights_file_is_a_clear_error(tmp_path) -> None:
    from qa.span_reader import ReaderLoadError, SpanModel

    folder = _copy_model(tmp_path, skip=(_weights_name(),))
    good = (MODEL_DIR / _weights_name()).read_bytes()
    (folder / _weights_name()).write_bytes(good[: len(good) // 3])  # a download cut short
    with pytest.raises(ReaderLoadError, match="damaged"):
        SpanModel(folder)


def test_damaged_calibration_is_a_clear_error(tmp_path, seed_index_dir) -> None:
    from index.store import load_index
    from qa.span_reader import ReaderLoadError, SpanReader

    folder = _copy_model(tmp_path)
    (folder / "calibration.json").write_text('{"features": ["margin"]}')
    with pytest.raises(ReaderLoadError, match="calibration .* unreadable"):
        SpanReader(folder, load_index(seed_index_dir))


def test_cli_reports_a_missing_reader_model_and_exits_2(settings, tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "Who is Demna?", "--index-dir", str(settings.index_dir),
         "--reader-model", str(tmp_path / "gone")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "reader model folder not found" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- training ------------------------------------------------------------------------------------------------
def _tiny_training_set(tmp_path: Path) -> Path:
    """A few SQuAD-style questions: one answerable and one not per paragraph, two articles (one is dev)."""
    paragraphs = {
        "Bridges": [
            ("The Vollmer bridge was designed by Margarethe Vollmer and opened in 1911.",
             [("Who designed the Vollmer bridge?", "Margarethe Vollmer"), ("When did the bridge close?", None),
              ("When did the bridge open?", "1911")]),
            ("The river below the bridge freezes every winter, and skaters use it in January.",
             [("When do skaters use the river?", "in January"), ("Who paints the bridge?", None)]),
        ],
        "Harbours": [
            ("The harbour of Lenz handles grain and timber, and its lighthouse dates from 1840.",
             [("What does the harbour handle?", "grain and timber"), ("Who built the lighthouse?", None)]),
        ],
    }  # fmt: skip
    data = []
    n = 0
    for title, paras in paragraphs.items():
        out = []
        for context, qas in paras:
            items = []
            for question, answer in qas * 3:  # repeats: a few steps of real training
                n += 1
                ans = [{"text": answer, "answer_start": context.index(answer)}] if answer else []
                items.append({"id": f"q{n}", "question": question, "answers": ans, "is_impossible": not answer})
            out.append({"context": context, "qas": items})
        data.append({"title": title, "paragraphs": out})
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"version": "v2.0", "data": data}))
    config = tmp_path / "tiny.toml"
    config.write_text(
        'dev_articles = ["Harbours"]\nmax_length = 96\ndoc_stride = 32\nnegatives_per_question = 1.0\n'
        "epochs = 2.0\nbatch_size = 4\nevals_per_epoch = 2\nlearning_rate = 1e-4\n"
        '[[data]]\npath = "tiny.json"\n'
    )
    return config


def test_training_writes_manifest_log_checkpoint_and_a_loadable_model(tmp_path) -> None:
    from qa.reader_training import sha256_of, train
    from qa.span_reader import SpanModel

    config = _tiny_training_set(tmp_path)
    out = tmp_path / "run"
    negatives = tmp_path / "negatives"
    model_dir = train(config, out, negatives_cache=negatives)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"][0]["sha256"] == sha256_of(tmp_path / "tiny.json")
    assert manifest["config_sha256"] == sha256_of(config)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    data = next(r for r in log if r["event"] == "data")
    assert data["negatives"] > 0  # retrieved passages without the answer became no-answer examples
    assert data["negatives_reused"] is False and len(list(negatives.glob("*.jsonl"))) == 1
    evals = [r for r in log if r["event"] == "eval"]
    assert len(evals) >= 2 and all("loss" in r and "dev_hasans_f1" in r for r in evals)
    assert (out / "checkpoint.pt").is_file()
    record = json.loads((model_dir / "training.json").read_text())
    assert record["manifest"]["files"] == manifest["files"]
    spans = SpanModel(model_dir).read("Who designed it?", ["The Vollmer bridge was designed by Margarethe Vollmer."])
    assert spans and spans[0].end <= len("The Vollmer bridge was designed by Margarethe Vollmer.")

    # --resume continues from the checkpoint instead of starting again; the time budget stops cleanly.
    done_steps = evals[-1]["step"]
    train(config, out, resume=True, negatives_cache=negatives)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    resumed = [r for r in log if r["event"] == "resumed"]
    assert resumed and resumed[-1]["step"] == done_steps
    # the same draw again reads its retrieved negatives back instead of embedding every passage again
    again = [r for r in log if r["event"] == "data"][-1]
    assert again["negatives_reused"] is True and again["negatives"] == data["negatives"]
    assert again["negatives_file"] == data["negatives_file"]
    out2 = tmp_path / "budget"
    train(config, out2, max_minutes=0.0, negatives_cache=negatives)
    log2 = [json.loads(line) for line in (out2 / "train_log.jsonl").read_text().splitlines()]
    assert any(r["event"] == "stopped" for r in log2)
    assert (out2 / "model" / "config.json").is_file()


def test_retrieved_negatives_read_back_are_the_ones_made(tmp_path) -> None:
    """The negatives cache hands back exactly the draw it stored, and another seed or rate is another file."""
    from qa.reader_training import TrainConfig, cached_retrieved_negatives, load_examples, split_dev

    cfg = TrainConfig.load(_tiny_training_set(tmp_path))
    train_ex, _ = split_dev(load_examples(cfg.data, cfg.seed, cfg.dev_articles), cfg.dev_articles)
    cache = tmp_path / "negatives"
    made, path, reused = cached_retrieved_negatives(train_ex, 1.0, 13, cache)
    read, path_again, reused_again = cached_retrieved_negatives(train_ex, 1.0, 13, cache)
    assert made and not reused and reused_again and path_again == path
    assert read == made  # same questions, passages and "no answer" labels, in the same order
    assert all(e.answer_text is None and e.origin == "negative" for e in read)
    assert cached_retrieved_negatives(train_ex, 1.0, 14, cache)[1] != path
    assert cached_retrieved_negatives(train_ex, 0.5, 13, cache)[1] != path
    assert cached_retrieved_negatives(train_ex, 0.0, 13, cache) == ([], None, False)


def test_training_needs_none_of_the_serving_stack() -> None:
    """`qa reader train` runs on a bare accelerator machine, which has torch, transformers and numpy but not the
    index and server libraries: importing it must load none of them."""
    code = ("import sys, qa.cli, qa.reader_training; print(sorted(m for m in ('faiss', 'bm25s', 'msgspec', "
            "'litestar', 'onnxruntime', 'index.store', 'qa.retrieval') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_training_config_is_a_clear_error(tmp_path) -> None:
    from qa.reader_training import TrainConfig, train

    bad = tmp_path / "bad.toml"
    bad.write_text("epochz = 3\n")
    with pytest.raises(ValueError, match="unknown setting"):
        TrainConfig.load(bad)
    # the second stage starts from the first stage's model: without it, the error says how to make it
    stage2 = TrainConfig.load(ROOT / "training" / "reader-news.toml")
    with pytest.raises(FileNotFoundError, match="scripts/train-reader"):
        train(ROOT / "training" / "reader-news.toml", tmp_path / "out", base_model=str(tmp_path / "no-stage1"))
    assert stage2.base_model == str(ROOT / "models" / "reader")  # relative to the recipe: the shipped reader
    missing = tmp_path / "r.toml"
    missing.write_text('base_model = "../no-such-stage1/model"\n')
    assert TrainConfig.load(missing).base_model == str(tmp_path.parent / "no-such-stage1" / "model")


def test_a_data_file_can_be_sampled_but_keeps_its_dev_questions(tmp_path) -> None:
    from qa.reader_training import TrainConfig, load_examples, split_dev

    articles = [{"title": f"A{i}", "paragraphs": [{"context": f"Article {i} was written by Ann {i}.", "qas": [
        {"id": f"{i}-{j}", "question": f"Who wrote article {i}?", "answers": [{"text": f"Ann {i}", "answer_start": 21}]}
        for j in range(10)]}]} for i in range(40)]  # fmt: skip
    (tmp_path / "d.json").write_text(json.dumps({"data": articles}))
    config = tmp_path / "c.toml"
    config.write_text('dev_articles = ["A0"]\n[[data]]\npath = "d.json"\nsample = 0.25\n')
    cfg = TrainConfig.load(config)
    examples = load_examples(cfg.data, cfg.seed, cfg.dev_articles)
    assert sum(e.article == "A0" for e in examples) == 10  # dev questions are never sampled away
    assert 50 < sum(e.article != "A0" for e in examples) < 150  # about a quarter of 390
    assert [e.qid for e in examples] == [e.qid for e in load_examples(cfg.data, cfg.seed, cfg.dev_articles)]
    config.write_text('[[data]]\npath = "d.json"\nsample = 0\n')
    with pytest.raises(ValueError, match="sample must be more than 0"):
        TrainConfig.load(config)
    # a misspelt dev article would quietly be trained on: it is refused, by name
    with pytest.raises(ValueError, match="no data file holds: A0x"):
        split_dev(examples, ["A0", "A0x"])


def test_news_articles_become_passages_the_way_the_index_cuts_them(tmp_path) -> None:
    sys.path.insert(0, str(ROOT / "training"))
    from news_to_squad import passages, read_writer

    folder = tmp_path / "Z"
    (folder / "articles").mkdir(parents=True)
    body = " ".join(f"Paragraph sentence number {i} says the council met on day {i}." for i in range(60))
    text = f'Bridge to close\n\n{body}\n\n"We have no choice," said Maria Okafor, the finance chair.'
    (folder / "articles" / "01-bridge.txt").write_text(text)
    rows = [
        {"article": "01-bridge", "question": "Who chairs finance?", "answer": "Maria Okafor"},
        {"article": "01-bridge", "question": "What did the mayor say?", "answer": None},
        {"article": "01-bridge", "question": "Where is it?", "answer": "nowhere in the text"},
        {"article": "01-bridge", "question": "When did they meet?", "answer": "day 1"},
    ]
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    data, problems, dropped = read_writer(folder, "news")
    assert data[0]["title"] == "news-Z-01-bridge"  # the name recipes list in dev_articles
    assert len(problems) == 2 and "not in the article verbatim" in problems[0] and "occurs" in problems[1]
    spans = passages(text)
    assert len(spans) > 1 and len(data[0]["paragraphs"]) == len(spans)  # one paragraph per index chunk
    held = [(q, p["context"]) for p in data[0]["paragraphs"] for q in p["qas"]]
    answerable = next((q, c) for q, c in held if not q["is_impossible"])
    a = answerable[0]["answers"][0]
    assert answerable[1][a["answer_start"] : a["answer_start"] + len(a["text"])] == "Maria Okafor"
    assert sum(q["is_impossible"] for q, _ in held) == 1 and dropped == 0


def test_questions_about_another_collections_articles_find_them_by_path(tmp_path) -> None:
    """training/quotes/ and training/paraphrase/ ask about the written news articles without copies of them."""
    sys.path.insert(0, str(ROOT / "training"))
    from news_to_squad import read_writer

    name = "news/A/02-zoning-court-ruling"
    text = (ROOT / "training" / "news" / "A" / "articles" / "02-zoning-court-ruling.txt").read_text()
    words = text.split("\n\n", 1)[1].split()
    answer = next(" ".join(words[i : i + 5]) for i in range(len(words)) if text.count(" ".join(words[i : i + 5])) == 1)
    folder = tmp_path / "Z"
    folder.mkdir()
    rows = [
        {"article": name, "question": "What did the ruling say?", "answer": answer},
        {"article": name, "question": "Who appealed in 1990?", "answer": None},
        {"article": "news/A/99-no-such-article", "question": "Who?", "answer": None},
    ]
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    data, problems, dropped = read_writer(folder, "quotes")
    assert [d["title"] for d in data] == ["quotes-Z-news-A-02-zoning-court-ruling"]
    assert len(problems) == 1 and "no article named 'news/A/99-no-such-article'" in problems[0]
    held = [(q, p["context"]) for p in data[0]["paragraphs"] for q in p["qas"]]
    found = next((q, c) for q, c in held if not q["is_impossible"])
    a = found[0]["answers"][0]
    assert found[1][a["answer_start"] : a["answer_start"] + len(a["text"])] == answer and dropped == 0
    assert sum(q["is_impossible"] for q, _ in held) == 1


def test_a_follow_up_is_trained_on_the_text_the_served_reader_reads(tmp_path) -> None:
    """training/follow-ups/: a question with chat history becomes what `analyse_question` hands the reader."""
    sys.path.insert(0, str(ROOT / "training"))
    from news_to_squad import read_writer

    from qa.conversation import parse_history
    from qa.reading import analyse_question

    text = "Bridge to close\n\nThe finance chair, Maria Okafor, said on Monday the bridge would shut in May."
    (tmp_path / "Z" / "articles").mkdir(parents=True)
    (tmp_path / "Z" / "articles" / "02-bridge.txt").write_text(text)
    named = [{"role": "user", "content": "Who chairs finance?"}, {"role": "assistant", "content": "Maria Okafor [1]"}]
    thing = [{"role": "user", "content": "What will shut?"}, {"role": "assistant", "content": "the bridge [1]"}]
    rows = [
        {"article": "02-bridge", "question": "When did she say it?", "answer": "on Monday", "history": named},
        {"article": "02-bridge", "question": "and when?", "answer": "in May", "history": thing},
        {"article": "02-bridge", "question": "Why?", "answer": None, "history": named[:1]},
    ]
    (tmp_path / "Z" / "questions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    data, problems, _ = read_writer(tmp_path / "Z", "follow-ups")
    assert len(problems) == 1 and "ending with the assistant's answer" in problems[0]
    asked = [q["question"] for p in data[0]["paragraphs"] for q in p["qas"]]
    served = [analyse_question(r["question"], parse_history(r["history"], 50)).reader_text for r in rows[:2]]
    assert asked == served
    assert served[0] == "When did Maria Okafor say it?" and served[1].startswith("and when? What will shut?")


# -- the engine's guarantees hold with the trained reader too --------------------------------------------
def test_citation_and_answer_offsets_are_exact_for_every_gold_question(engine) -> None:
    from qa.gold import read_gold

    for path in sorted((ROOT / "gold").glob("*.jsonl")):
        for q in read_gold(path).questions:
            a = engine.ask(q.question, history=q.history_dicts() or None, threshold=0.0, candidates=3)
            for c in a.citations + [cand.citation for cand in a.candidates]:
                assert engine.index.documents[c.doc_id].text[c.start : c.end] == c.quote, (path.name, q.id)
            if a.answer is not None:
                doc = engine.index.documents[a.citations[0].doc_id].text
                assert doc[a.answer_start : a.answer_end] == a.answer, (path.name, q.id)


def test_filters_and_candidates_with_the_trained_reader(engine) -> None:
    only = "003_f2bd36a69d885f5a"
    a = engine.ask("Who is Balenciaga's creative director?", filters={"doc_ids": [only]}, threshold=0.0,
                   candidates=3)  # fmt: skip
    assert a.citations and all(c.doc_id == only for c in a.citations)
    assert all(c.citation.doc_id == only for c in a.candidates)
    assert len({c.answer.lower() for c in a.candidates}) == len(a.candidates)  # distinct alternatives
    assert a.candidates[0].score >= a.candidates[-1].score


def test_follow_up_is_answered_about_the_name_given_before(engine) -> None:
    history = [{"role": "user", "content": "Who is Balenciaga's creative director?"},
               {"role": "assistant", "content": "Demna [1]"}]  # fmt: skip
    a = engine.ask("When did he apologize?", history=history, threshold=0.0)
    assert "Demna" in a.resolved_question
    assert a.citations and "Demna" in engine.index.documents[a.citations[0].doc_id].text


def test_cli_ask_answers_with_the_trained_reader(settings) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("QA_")}
    env.update(QA_INDEX_DIR=str(settings.index_dir), QA_CORPUS_DIR=str(settings.corpus_dir))
    out = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "--json", "How much was the lawsuit against the set designer?"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300, check=True,
    )  # fmt: skip
    answer = json.loads(out.stdout)
    assert "25 million" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == "000_898400add2b9d695"


def test_int8_onnx_export_reads_the_same_answer(tmp_path) -> None:
    from qa.reader_export import export_onnx
    from qa.span_reader import SpanModel

    onnx_dir = tmp_path / "onnx"
    export_onnx(MODEL_DIR, onnx_dir)
    assert (onnx_dir / "model.onnx").stat().st_size < 30_000_000  # int8: about half the fp16 file
    quantised = SpanModel(onnx_dir)
    assert quantised.runtime == "onnx"
    passage = "The fashion company also initially filed a $25 million lawsuit against set designer Nicholas Des Jardi."
    best = quantised.read("Who did the company sue?", [passage])[0]
    assert passage[best.start : best.end] == "Nicholas Des Jardi"


def test_int8_weights_take_7_bits_on_x86_cpus_without_vnni(tmp_path) -> None:
    from qa.reader_export import cpu_flags, int8_reduce_range

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 fma\n\n")
    zen2 = cpu_flags(cpuinfo)
    assert zen2 == frozenset({"fpu", "sse2", "avx2", "fma"})
    assert int8_reduce_range("x86_64", zen2)  # AVX2 alone: u8s8 products added in 16 bits can saturate
    assert not int8_reduce_range("x86_64", zen2 | {"avx512_vnni"})
    assert not int8_reduce_range("AMD64", zen2 | {"avx_vnni"})
    assert int8_reduce_range("x86_64", cpu_flags(tmp_path / "missing"))  # unknown flags: the safe 7 bits
    assert not int8_reduce_range("aarch64", frozenset())


def test_int8_exports_with_7_and_8_bit_weights_differ_and_read_the_same_answer(tmp_path) -> None:
    from qa.reader_export import export_model
    from qa.span_reader import SpanModel, load_reader_weights

    model = load_reader_weights(MODEL_DIR)
    passage = "The fashion company also initially filed a $25 million lawsuit against set designer Nicholas Des Jardi."
    files = []
    for reduce in (True, False):
        (tmp_path / f"bits-{reduce}").mkdir()
        folder = _copy_model(tmp_path / f"bits-{reduce}", skip=("model.safetensors",))
        export_model(model, folder / "model.onnx", reduce_range=reduce)
        best = SpanModel(folder, runtime="onnx").read("Who did the company sue?", [passage])[0]
        assert passage[best.start : best.end] == "Nicholas Des Jardi"
        files.append((folder / "model.onnx").read_bytes())
    assert files[0] != files[1]


def test_the_service_reads_in_int8_from_an_export_of_the_shipped_weights_made_once(
    tmp_path, monkeypatch, capfd
) -> None:
    import qa.reader_export
    from qa.settings import Settings
    from qa.span_reader import SpanModel

    assert Settings.from_env(env={}).reader_runtime == "onnx"  # the default: the fastest here (BENCHMARKS.md)
    cache = tmp_path / "cache"
    monkeypatch.setattr(qa.reader_export, "CACHE_DIR", cache)
    first = SpanModel(MODEL_DIR, runtime="onnx")
    assert (first.runtime, first.precision) == ("onnx", "int8")
    files = list(cache.glob("*/model.onnx"))
    assert len(files) == 1 and list(cache.iterdir()) == [files[0].parent]  # one export, no temporary left
    assert list(files[0].parent.iterdir()) == files  # its fp32 step removed
    assert "exporting" in capfd.readouterr().err  # says what it is doing on the first start
    again = SpanModel(MODEL_DIR, runtime="onnx")
    assert "exporting" not in capfd.readouterr().err and list(cache.glob("*/model.onnx")) == files  # reused
    passage = "The fashion company also initially filed a $25 million lawsuit against set designer Nicholas Des Jardi."
    best = again.read("Who did the company sue?", [passage])[0]
    assert passage[best.start : best.end] == "Nicholas Des Jardi"
    # other weights (one byte of a tensor's data changed), another export: never a stale one
    folder = _copy_model(tmp_path)
    weights = bytearray((folder / "model.safetensors").read_bytes())
    weights[-3] ^= 1
    (folder / "model.safetensors").write_bytes(bytes(weights))
    SpanModel(folder, runtime="onnx")
    assert "exporting" in capfd.readouterr().err and len(list(cache.glob("*/model.onnx"))) == 2


def test_damaged_weights_or_an_unwritable_cache_are_clear_errors_with_the_onnx_runtime(tmp_path, monkeypatch) -> None:
    import qa.reader_export
    from qa.span_reader import ReaderLoadError, SpanModel

    cache = tmp_path / "cache"
    monkeypatch.setattr(qa.reader_export, "CACHE_DIR", cache)
    folder = _copy_model(tmp_path, skip=("model.safetensors",))
    good = (MODEL_DIR / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(good[: len(good) // 3])
    with pytest.raises(ReaderLoadError, match="damaged"):
        SpanModel(folder, runtime="onnx")
    assert not cache.exists()  # nothing exported from damaged weights
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setattr(qa.reader_export, "CACHE_DIR", blocked)
    with pytest.raises(ReaderLoadError, match="cannot export the reader .* in int8 to .*QA_READER_RUNTIME=torch"):
        SpanModel(MODEL_DIR, runtime="onnx")


def test_unknown_reader_runtime_is_a_clear_error() -> None:
    from qa.settings import Settings

    with pytest.raises(ValueError, match="reader_runtime must be one of onnx, torch, not 'tensorrt'"):
        Settings.from_env(env={"QA_READER_RUNTIME": "tensorrt"})


def test_merging_a_reader_with_itself_gives_the_same_reader(tmp_path) -> None:
    from safetensors.torch import load_file

    from qa.reader_merge import merge_readers
    from qa.span_reader import SpanModel

    out = merge_readers(MODEL_DIR, MODEL_DIR, 0.5, tmp_path / "merged")
    original, merged = load_file(str(MODEL_DIR / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert set(merged) == set(original)
    assert all(bool((merged[k] == original[k]).all()) for k in original)
    assert not (out / "calibration.json").exists()  # a merged reader must be calibrated before it is served
    record = json.loads((out / "training.json").read_text())["merge"]
    assert record["weight"] == 0.5
    assert record["first"]["weights_sha256"] == record["second"]["weights_sha256"]
    passage = "The fashion company also initially filed a $25 million lawsuit against set designer Nicholas Des Jardi."
    best = SpanModel(out).read("Who did the company sue?", [passage])[0]
    assert passage[best.start : best.end] == "Nicholas Des Jardi"


def test_merge_weight_is_the_share_of_the_second_reader(tmp_path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    from qa.reader_merge import merge_readers

    zeroed = _copy_model(tmp_path)
    state = load_file(str(MODEL_DIR / "model.safetensors"))
    save_file({k: torch.zeros_like(v) if v.is_floating_point() else v for k, v in state.items()},
              str(zeroed / "model.safetensors"))  # fmt: skip
    out = merge_readers(MODEL_DIR, zeroed, 0.25, tmp_path / "merged")
    merged = load_file(str(out / "model.safetensors"))
    for name in ("qa_outputs.weight", "bert.embeddings.word_embeddings.weight"):
        expected = state[name].float() * 0.75
        assert torch.allclose(merged[name].float(), expected, atol=1e-3, rtol=1e-3)
        assert not torch.allclose(merged[name].float(), state[name].float(), atol=1e-3, rtol=1e-3)


def test_merge_refuses_bad_weights_and_different_readers_with_a_clear_error(tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(str(MODEL_DIR / "model.safetensors"))
    headless = _copy_model(tmp_path)
    save_file({k: v for k, v in state.items() if not k.startswith("qa_outputs")}, str(headless / "model.safetensors"))
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for f in ("config.json", "vocab.txt"):
        (damaged / f).write_bytes((MODEL_DIR / f).read_bytes())
    (damaged / "model.safetensors").write_bytes((MODEL_DIR / "model.safetensors").read_bytes()[:1000])
    other = tmp_path / "other"
    other.mkdir()
    config = json.loads((MODEL_DIR / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "num_attention_heads": 6}))
    (other / "model.safetensors").write_bytes((MODEL_DIR / "model.safetensors").read_bytes())
    cases = [
        ([str(MODEL_DIR), str(MODEL_DIR), "--weight", "1.5"], "merge weight must be between 0 and 1"),
        ([str(MODEL_DIR), str(headless), "--weight", "0.5"], "different tensors"),
        ([str(MODEL_DIR), str(tmp_path / "gone"), "--weight", "0.5"], "reader not found"),
        ([str(MODEL_DIR), str(damaged), "--weight", "0.5"], "damaged or not safetensors"),
        ([str(MODEL_DIR), str(other), "--weight", "0.5"], "config.json differ (num_attention_heads)"),
    ]
    for args, message in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "qa.cli", "reader", "merge", *args, "--to", str(tmp_path / "out")],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.tmp").exists()  # nothing half-written


def test_traced_reader_gives_what_the_eager_model_gives_on_padded_batches(span_model) -> None:
    """The reader runs a TorchScript graph traced once at load (index/tracing.py), on a small example; on
    a batch of another shape, whose second row is padding for the most part, it must match the eager model."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForQuestionAnswering

    from index.tracing import trace_encoder

    assert span_model.traced
    model = BertForQuestionAnswering(BertConfig.from_json_file(str(MODEL_DIR / "config.json")))
    model.load_state_dict({k: v.float() for k, v in load_file(str(MODEL_DIR / "model.safetensors")).items()})
    model.eval()
    graph = trace_encoder(model)
    assert graph is not None
    passage = "The old stone bridge was designed by Margarethe Vollmer in 1911, and rebuilt after the flood. " * 3
    enc = span_model.tokenizer(["Who designed the bridge?", "When?"], [passage, "In 1911."], padding=True,
                               return_tensors="pt")  # fmt: skip
    assert enc["attention_mask"][1].sum() < enc["attention_mask"].shape[1] // 2  # mostly padding
    args = enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]
    with torch.inference_mode():
        eager, traced = model(*args), graph(*args)
    real = enc["attention_mask"].bool()
    for name in ("start_logits", "end_logits"):
        assert torch.allclose(getattr(eager, name)[real], traced[name][real], atol=1e-4)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_both_precisions_read_the_same_answers(precision) -> None:
    from qa.span_reader import SpanModel

    model = SpanModel(MODEL_DIR, precision=precision)
    assert model.precision == precision
    passages = [
        "The fashion company also initially filed a $25 million lawsuit against set designer Nicholas Des Jardi.",
        "The old stone bridge was designed by Margarethe Vollmer in 1911, and rebuilt after the flood of 1954.",
    ]
    sue = model.read("Who did the company sue?", passages)[0]
    built = model.read("When was the bridge rebuilt?", passages)[0]
    assert passages[sue.passage][sue.start : sue.end] == "Nicholas Des Jardi"
    assert passages[built.passage][built.start : built.end] == "1954"


def test_reader_confident_setting_is_read_and_checked() -> None:
    from qa.settings import Settings

    assert Settings.from_env(env={"QA_READER_CONFIDENT": "1"}).reader_confident == 1.0
    with pytest.raises(ValueError, match="reader_confident must be between 0 and 1"):
        Settings.from_env(env={"QA_READER_CONFIDENT": "1.5"})


def test_reader_lanes_setting_is_read_and_checked() -> None:
    from qa.settings import Settings

    assert Settings.from_env(env={"QA_READER_LANES": "1"}).reader_lanes == 1
    with pytest.raises(ValueError, match="reader_lanes must be 0"):
        Settings.from_env(env={"QA_READER_LANES": "-1"})


def test_automatic_precision_is_one_the_cpu_runs_and_bad_values_are_refused() -> None:
    from qa.precision import resolve_precision
    from qa.settings import Settings

    assert resolve_precision("auto") in {"fp32", "bf16"}
    assert resolve_precision("fp32") == "fp32"
    assert Settings.from_env(env={"QA_READER_PRECISION": "bf16"}).reader_precision == "bf16"
    with pytest.raises(ValueError, match="reader_precision must be one of auto, fp32, bf16"):
        Settings.from_env(env={"QA_READER_PRECISION": "fp8"})


def test_recalibrating_keeps_the_gold_sets_the_threshold_was_chosen_on(tmp_path) -> None:
    from qa.reader_calibration import previous_threshold_gold

    # the shipped model's threshold was chosen on dev + seed + heldout: a plain `qa reader calibrate` reuses them
    assert previous_threshold_gold(ROOT / "models" / "reader") == [Path("gold/seed.jsonl"), Path("gold/heldout.jsonl")]
    news = [Path(f"gold/{g}.jsonl") for g in ("seed", "heldout", "blind18", "blind19")]
    assert previous_threshold_gold(ROOT / "models" / "reader-news") == news
    assert previous_threshold_gold(tmp_path) == []  # no calibration yet: dev questions only
    (tmp_path / "calibration.json").write_text("{not json")
    assert previous_threshold_gold(tmp_path) == []
    # calibrated before corpus styles: one list for the one threshold
    (tmp_path / "calibration.json").write_text(json.dumps({"threshold_chosen_on": ["dev", "gold/seed.jsonl"]}))
    assert previous_threshold_gold(tmp_path) == [Path("gold/seed.jsonl")]


def test_recalibrating_uses_the_recipe_the_model_was_trained_with(tmp_path) -> None:
    """Its dev articles are the questions the model never trained on: the news reader's recipe holds out
    written articles that training/reader.toml does not."""
    from qa.reader_calibration import recipe_of
    from qa.reader_training import TrainConfig

    # the news reader is three fine-tunes of a merge of two fine-tunes: its recipe holds out every stage's dev articles
    assert recipe_of(ROOT / "models" / "reader-news") == ROOT / "training" / "reader-bylines.toml"
    stages = ("reader-news.toml", "reader-news2.toml", "reader-quotes.toml", "reader-follow-ups.toml",
              "reader-bylines.toml")  # fmt: skip
    held_out = {name: set(TrainConfig.load(ROOT / "training" / name).dev_articles) for name in stages}
    assert held_out["reader-news.toml"] <= held_out["reader-news2.toml"] == held_out["reader-quotes.toml"]
    assert held_out["reader-follow-ups.toml"] == held_out["reader-bylines.toml"] == held_out["reader-news2.toml"]
    # the shipped encyclopaedia reader was trained from a copy of its recipe on a GPU machine: the default
    assert recipe_of(MODEL_DIR) == ROOT / "training" / "reader.toml"
    assert recipe_of(tmp_path) == ROOT / "training" / "reader.toml"  # no training.json
    (tmp_path / "training.json").write_text(json.dumps({"manifest": {"config": "training/reader-cpu.toml"}}))
    assert recipe_of(tmp_path) == ROOT / "training" / "reader-cpu.toml"
    merged = {"merge": {"first": {"training": {"manifest": {"config": "training/reader.toml"}}},
                        "second": {"training": {"manifest": {"config": "training/reader-news.toml"}}}}}  # fmt: skip
    (tmp_path / "training.json").write_text(json.dumps(merged))
    assert recipe_of(tmp_path) == ROOT / "training" / "reader-news.toml"
    (tmp_path / "training.json").write_text(json.dumps({"merge": {"second": {"folder": "gone"}}}))
    assert recipe_of(tmp_path) == ROOT / "training" / "reader.toml"  # a source without its record
