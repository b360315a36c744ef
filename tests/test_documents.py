"""Ingestion: .txt/.md/.html/.jsonl readers, metadata, skipped and malformed files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from index.build import build_index
from index.documents import read_corpus
from index.embedding import Embedder
from index.store import load_index

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"

SHARED_CORPUS = ROOT.parent / "shared" / "corpus"

SEED_META = {
    # doc_id: (title starts with, date, source)
    "000_898400add2b9d695": ("Kim Kardashian is opening up about the backlash", "2022-12-27", None),
    "001_1d16e7dd443baf6a": ("Kim Kardashian finally broke her silence", None, None),
    "002_ebe90d7494c22bd0": ("Kim Kardashian Faces Backlash Over Balenciaga Partnership", "2024-01-22", "OK Magazine"),
    "003_f2bd36a69d885f5a": ("Kim Kardashian’s New Career Move Slammed", None, None),
    "004_dffe5d6a3e7179a3": ("American model, socialite, media personality", "2024-01-23", None),
}

MD_DOC = """---
title: "Council Approves New Budget"
date: 2024-03-01
source: Town Crier
url: https://example.com/budget
---
# Council Approves New Budget After Long Debate

The council approved the budget on Friday after a six-hour debate.

Advertisement

The mayor said the vote was a relief for residents.
"""

HTML_DOC = """<!doctype html>
<html><head>
<title>Harbour Reopens | Coast News</title>
<meta property="og:title" content="Harbour reopens (og)">
<meta property="article:published_time" content="2024-05-06T08:30:00Z">
<meta property="og:site_name" content="Coast News">
<meta property="og:url" content="https://example.com/harbour">
<style>.secret-style { color: red }</style>
<script>var leaked = "<p>script text must not appear</p>";</script>
</head><body>
<nav><a href="/">Home</a> <a href="/world">World navigation</a></nav>
<article>
<h1>Harbour Reopens After Storm</h1>
<p>The harbour reopened on <b>Monday</b> after a week of repairs &amp; cleaning.</p>
<div class="ad">Advertisement</div>
<p>Fishing boats returned to the docks by noon.</p>
<form><button>Post comment</button></form>
</article>
<footer>&copy; Copyright 2024 Coast News. All rights reserved.</footer>
</body></html>
"""

JSONL_LINES = [
    {"id": "wire-1", "title": "Rail strike ends", "text": "The rail strike ended on Tuesday.\n\nTrains ran normally.",
     "date": "2024-02-01", "url": "https://example.com/rail", "source": "Wire Service"},
    {"id": "wire-2", "title": "Bridge opens", "text": "A new bridge opened over the river on Wednesday."},
    None,  # line 3: not JSON at all
    {"id": "wire-4", "title": "Library extends hours", "text": "The city library will stay open until nine."},
    {"id": "wire-5", "title": "No text here"},  # line 5: missing "text"
    {"id": "wire-6", "title": "Bad source", "text": "Some words here.", "source": {"name": "x"}},  # line 6
]  # fmt: skip


def _write_jsonl(path: Path) -> None:
    lines = ['{"id": "wire-3", "title": broken' if rec is None else json.dumps(rec) for rec in JSONL_LINES]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def mixed_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "budget.md").write_text(MD_DOC, encoding="utf-8")
    (corpus / "harbour.html").write_text(HTML_DOC, encoding="utf-8")
    _write_jsonl(corpus / "wire.jsonl")
    (corpus / "plain.txt").write_text(" date 2024-04-02 Plain text headline here\n\nBody sentence.\n")
    (corpus / "notes.csv").write_text("a,b\n1,2\n")  # unknown type: reported, skipped
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 society story.".encode("latin-1"))  # not UTF-8
    (corpus / "empty.txt").write_text("   \n")
    (corpus / ".DS_Store").write_bytes(b"\x00\x01")  # hidden: ignored silently
    return corpus


# --- the seed corpus ----------------------------------------------------------------------------


def test_seed_metadata() -> None:
    result = read_corpus(SEED_CORPUS)
    assert result.errors == [] and result.skipped == []
    docs = {d.doc_id: d for d in result.documents}
    assert set(docs) == set(SEED_META)
    for doc_id, (title, date, source) in SEED_META.items():
        doc = docs[doc_id]
        assert doc.title.startswith(title), doc.title
        assert doc.date == date
        assert doc.source == source
        assert doc.path == f"{doc_id}.txt"
        assert len(doc.content_hash) == 64


def test_seed_doc_ids_are_stable_and_text_is_the_file() -> None:
    first = {d.doc_id: d for d in read_corpus(SEED_CORPUS).documents}
    again = {d.doc_id: d for d in read_corpus(SEED_CORPUS).documents}
    assert first == again  # same ids, titles and content hashes on every read
    for doc in first.values():
        assert doc.text == (SEED_CORPUS / doc.path).read_bytes().decode("utf-8")


@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason="../shared/corpus not present")
def test_seed_files_are_byte_for_byte_the_shared_corpus() -> None:
    ours = sorted(p.name for p in SEED_CORPUS.iterdir() if p.is_file())
    theirs = sorted(p.name for p in SHARED_CORPUS.iterdir() if p.is_file())
    assert ours == theirs
    for name in ours:
        assert (SEED_CORPUS / name).read_bytes() == (SHARED_CORPUS / name).read_bytes(), name


def test_seed_index_documents_are_the_original_files(seed_index_dir: Path) -> None:
    data = load_index(seed_index_dir)
    assert set(data.documents) == set(SEED_META)
    for doc in data.documents.values():
        assert doc.text == (SEED_CORPUS / doc.path).read_bytes().decode("utf-8")


# --- each reader --------------------------------------------------------------------------------


def test_markdown_front_matter(mixed_corpus: Path) -> None:
    doc = {d.doc_id: d for d in read_corpus(mixed_corpus).documents}["budget"]
    assert doc.title == "Council Approves New Budget"
    assert doc.date == "2024-03-01"
    assert doc.source == "Town Crier"
    assert doc.url == "https://example.com/budget"
    assert doc.text == MD_DOC  # the original file: offsets point into it


def test_html_text_title_date_and_source(mixed_corpus: Path) -> None:
    doc = {d.doc_id: d for d in read_corpus(mixed_corpus).documents}["harbour"]
    assert doc.title == "Harbour Reopens After Storm"  # the page's h1
    assert doc.date == "2024-05-06"
    assert doc.source == "Coast News"
    assert doc.url == "https://example.com/harbour"
    assert "The harbour reopened on Monday after a week of repairs & cleaning." in doc.text
    assert "Fishing boats returned to the docks by noon." in doc.text
    for gone in ("<", ">", "secret-style", "script text", "leaked", "World navigation", "Post comment", "&amp;"):
        assert gone not in doc.text, gone


def test_jsonl_one_article_per_line_and_bad_lines_reported(mixed_corpus: Path) -> None:
    result = read_corpus(mixed_corpus)
    docs = {d.doc_id: d for d in result.documents}
    assert {"wire-1", "wire-2", "wire-4"} <= set(docs)  # lines after the bad line 3 are still read
    assert not {"wire-3", "wire-5", "wire-6"} & set(docs)
    w1 = docs["wire-1"]
    assert (w1.title, w1.date, w1.source, w1.url) == (
        "Rail strike ends", "2024-02-01", "Wire Service", "https://example.com/rail"
    )  # fmt: skip
    assert w1.text == JSONL_LINES[0]["text"]
    assert docs["wire-2"].date is None
    errors = [e for e in result.errors if e.startswith("wire.jsonl:")]
    assert len(errors) == 3, result.errors
    assert errors[0].startswith("wire.jsonl:3: invalid JSON")
    assert errors[1].startswith("wire.jsonl:5: ") and "text" in errors[1]
    assert errors[2].startswith("wire.jsonl:6: ") and "source" in errors[2]


def test_jsonl_ids_keep_their_dots_and_duplicates_are_reported(tmp_path: Path) -> None:
    lines = [
        {"id": "story.1", "title": "One", "text": "The first story text."},
        {"id": "story.2", "title": "Two", "text": "The second story text."},
        {"id": "story.1", "title": "Again", "text": "A duplicate id."},
        {"id": "story.3", "title": "Bad date", "text": "Dated text.", "date": "yesterday"},
    ]
    (tmp_path / "feed.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    result = read_corpus(tmp_path)
    assert [d.doc_id for d in result.documents] == ["story.1", "story.2"]
    assert result.errors[0].startswith("feed.jsonl:3: duplicate document id 'story.1'")
    assert result.errors[1].startswith("feed.jsonl:4: date 'yesterday'")  # file:line, no stray ":1"


def test_byte_order_mark_line_separators_and_broken_escapes(tmp_path: Path) -> None:
    # A BOM (Windows editors) is not text: the front matter after it is still read as front matter.
    front = "---\r\ntitle: Bridge Reopens\r\ndate: 2024-05-01\r\n---\r\nThe mayor said the bridge would reopen.\r\n"
    (tmp_path / "bom.md").write_bytes(b"\xef\xbb\xbf" + front.encode())
    # JSON allows U+2028 / U+2029 / U+0085 unescaped in a string: one record, not two broken lines. A "\ud800"
    # escape decodes to half a character: that line is reported, the next one still read.
    records = [
        '{"id": "sep", "title": "Council", "text": "The council met on Tuesday.\u2028It approved the budget.\u0085"}',
        '{"id": "half", "title": "Broken", "text": "Broken \\ud800 escape in a sentence."}',
        '{"id": "after", "title": "After", "text": "The line after the broken one is read."}',
    ]
    (tmp_path / "feed.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    (tmp_path / "odd.md").write_text("---\ntitle: Odd\ndate: 2024-13-45\n---\nA story with an impossible date.\n")
    result = read_corpus(tmp_path)
    docs = {d.doc_id: d for d in result.documents}
    assert sorted(docs) == ["after", "bom", "sep"]
    assert (docs["bom"].title, docs["bom"].date, docs["bom"].text) == ("Bridge Reopens", "2024-05-01", front)
    assert docs["sep"].text == "The council met on Tuesday.\u2028It approved the budget.\u0085"
    assert result.errors == [
        "feed.jsonl:2: field(s) hold an unpaired UTF-16 surrogate escape (not text): text",
        "odd.md:1: date '2024-13-45' is not a calendar date",
    ]


def test_replacing_and_deleting_a_record_keeps_a_neighbour_with_a_line_separator(tmp_path: Path) -> None:
    from index.corpus_writes import NewDocument, delete_document, replace_document

    records = [
        {"id": "sep", "title": "Council", "text": "The council met on Tuesday.\u2028It approved the budget."},
        {"id": "other", "title": "Ferry", "text": "The ferry returned to service on Monday."},
        {"id": "last", "title": "Bridge", "text": "The bridge reopened on Friday."},
    ]
    (tmp_path / "feed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    replace_document(tmp_path, "other", NewDocument(text="The ferry resumed its night service on Monday."))
    delete_document(tmp_path, "last")
    result = read_corpus(tmp_path)
    assert result.errors == []
    assert {d.doc_id: d.text for d in result.documents} == {
        "sep": records[0]["text"],
        "other": "The ferry resumed its night service on Monday.",
    }


def _replace_once(corpus: str, doc_id: str) -> None:
    from index.corpus_writes import NewDocument, replace_document

    replace_document(Path(corpus), doc_id, NewDocument(text=f"The second story about {doc_id}."))


def test_a_change_waits_for_another_process_changing_the_folder(tmp_path: Path) -> None:
    """Workers (QA_WORKERS > 1) each take document writes, and a change reads a file, then rewrites it: two at
    once would lose one. A change in another process waits while this one holds the folder's lock."""
    import fcntl
    import multiprocessing
    import time

    from index.corpus_writes import LOCK_FILE

    records = [{"id": x, "title": x, "text": f"The first story about {x}."} for x in ("left", "right")]
    (tmp_path / "feed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    before = (tmp_path / "feed.jsonl").read_text()
    fd = os.open(tmp_path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a change in progress in another worker holds it
    proc = multiprocessing.get_context("spawn").Process(target=_replace_once, args=(str(tmp_path), "right"))
    try:
        proc.start()
        time.sleep(3)  # ample for the child to start and reach the lock
        assert proc.is_alive() and (tmp_path / "feed.jsonl").read_text() == before, "it must wait for the lock"
    finally:
        os.close(fd)
    proc.join(60)
    assert proc.exitcode == 0
    texts = {d.doc_id: d.text for d in read_corpus(tmp_path).documents}
    assert texts == {"left": "The first story about left.", "right": "The second story about right."}


def _replace_and_die_at(corpus: str, doc_id: str, step: int) -> None:
    """replace_document, the process killed (os._exit, no cleanup) just before its `step`-th rename or unlink."""
    from index.corpus_writes import NewDocument, replace_document

    calls = {"n": 0}

    def dying(real):
        def call(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == step:
                os._exit(9)
            return real(*args, **kwargs)

        return call

    os.replace, os.rename, os.unlink = dying(os.replace), dying(os.rename), dying(os.unlink)
    Path.unlink = dying(Path.unlink)
    replace_document(Path(corpus), doc_id, NewDocument(text="The second version of the harbour story."))


def test_a_replace_killed_at_any_step_never_loses_the_document(tmp_path: Path) -> None:
    """A PUT of a document kept in its own .txt file (stored as JSON Lines from then on), killed before each of
    its renames and unlinks in turn, then once left to finish: the document is always there."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    first, second = "The first version of the harbour story.", "The second version of the harbour story."
    for step in range(1, 30):
        corpus = tmp_path / f"step{step}"
        corpus.mkdir()
        (corpus / "harbour.txt").write_text(first + "\n")
        proc = ctx.Process(target=_replace_and_die_at, args=(str(corpus), "harbour", step))
        proc.start()
        proc.join(60)
        texts = [d.text.strip() for d in read_corpus(corpus).documents if d.doc_id == "harbour"]
        assert texts and texts[0] in (first, second), (step, proc.exitcode, texts)
        if proc.exitcode == 0:  # it got past every step: done
            assert texts == [second] and step > 2
            break
    else:
        raise AssertionError("the replace never finished")


def test_unknown_and_malformed_files_are_reported_and_skipped(mixed_corpus: Path) -> None:
    result = read_corpus(mixed_corpus)
    assert result.skipped == ["notes.csv", "scan.pdf"]
    assert any(e.startswith("latin1.txt:1: not valid UTF-8") for e in result.errors), result.errors
    assert any(e.startswith("empty.txt:1: file is empty") for e in result.errors), result.errors
    ids = {d.doc_id for d in result.documents}
    assert ids == {"budget", "harbour", "plain", "wire-1", "wire-2", "wire-4"}
    plain = next(d for d in result.documents if d.doc_id == "plain")
    assert (plain.title, plain.date) == ("Plain text headline here", "2024-04-02")


def test_unreadable_file_is_reported_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Running as root, chmod cannot make a file unreadable; simulate the OS refusing one file.
    (tmp_path / "a.txt").write_text("A readable story about the harbour.\n")
    (tmp_path / "b.txt").write_text("This one the OS refuses to read.\n")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "b.txt":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = read_corpus(tmp_path)
    assert [d.doc_id for d in result.documents] == ["a"]
    assert result.errors == ["b.txt:1: cannot read file (Permission denied)"]


def test_all_debris_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ad.txt").write_text("Advertisement\n\nSource: mega\n")
    result = read_corpus(tmp_path)
    assert result.documents == []
    assert result.errors == ["ad.txt:1: no article text left after removing page debris"]


def test_a_byline_is_kept_but_is_not_a_title_nor_an_article(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("By Jane Doe\n\nThe ferry returned to service on Monday.\n")
    (tmp_path / "b.txt").write_text("Written by Jane Doe\n\nAdvertisement\n")
    result = read_corpus(tmp_path)
    [doc] = result.documents
    assert doc.title == "The ferry returned to service on Monday."
    assert result.errors == ["b.txt:1: no article text left after removing page debris"]


def test_missing_corpus_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="corpus folder not found"):
        read_corpus(tmp_path / "nope")


def test_mixed_corpus_builds_and_bad_files_never_stop_the_others(
    mixed_corpus: Path, tmp_path: Path, embedder: Embedder
) -> None:
    report = build_index(mixed_corpus, tmp_path / "index", embedder, progress=False)
    assert report.skipped == ["notes.csv", "scan.pdf"]
    assert any(e.startswith("wire.jsonl:3:") for e in report.errors)
    assert any(e.startswith("latin1.txt:1:") for e in report.errors)
    data = load_index(tmp_path / "index")
    assert set(data.documents) == {"budget", "harbour", "plain", "wire-1", "wire-2", "wire-4"}
    assert {c.doc_id for c in data.chunks} == set(data.documents)  # every good document is searchable
    for item in [*data.chunks, *data.sentences]:
        assert data.documents[item.doc_id].text[item.start : item.end] == item.text
    all_text = " ".join(c.text for c in data.chunks)
    for gone in ("Advertisement", "Copyright", "script text", "title:", "World navigation"):
        assert gone not in all_text, gone
    assert "The mayor said the vote was a relief for residents." in {s.text for s in data.sentences}
