"""The JSON API against the real server process (session fixture `live_server`), plus the error paths
that need an app of their own (in-process, still the real create_app and Engine.load)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

LAWSUIT_Q = "How much was the lawsuit against the set designer?"


@pytest.fixture(scope="module")
def client(live_server) -> httpx.Client:
    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        yield c


def ask(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/api/ask", json=body)


# -- readiness ------------------------------------------------------------------------------------------


def test_health_ready(client: httpx.Client) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert body["documents"] == 5
    assert body["chunks"] > 0 and body["sentences"] > body["chunks"] // 2
    assert body["model"]
    assert body["corpus_style"] == "news"  # which reader and which of its calibrated thresholds serve
    assert body["reader_model"] == "reader-news"  # the news style's own reader (QA_READER_MODEL unset)
    assert (body["reader_runtime"], body["embedding_runtime"]) == ("onnx-int8", "onnx")  # the defaults, not a fallback
    assert 0 < body["abstain_threshold"] < 1


def test_health_and_ask_answer_503_while_loading(live_server) -> None:
    obs = live_server.startup_observations
    if not obs:
        pytest.skip("the server was ready before its first /health answer")
    (_, h_status, h_body), (_, a_status, a_body), (_, h2_status, h2_body) = obs
    assert h_status == 503 and h_body == {"status": "loading"}
    if h2_body.get("status") != "loading":
        pytest.skip("loading finished between the two /health checks")
    assert a_status == 503
    assert "loading" in a_body["detail"]


# -- /api/ask ---------------------------------------------------------------------------------------------


def test_ask_answers_with_exact_citations(client: httpx.Client) -> None:
    r = ask(client, question=LAWSUIT_Q)
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["abstained"] is False
    assert a["answer"] == "$25 million"
    assert "[1]" in a["reply"]
    assert 0 < a["confidence"] <= 1
    assert a["related"], "related passages are returned too"
    first = a["citations"][0]
    assert first["index"] == 1
    doc = client.get(f"/api/documents/{first['doc_id']}").json()
    for c in a["citations"]:
        text = client.get(f"/api/documents/{c['doc_id']}").json()["text"]
        assert text[c["start"] : c["end"]] == c["quote"]
    assert doc["text"][a["answer_start"] : a["answer_end"]] == a["answer"]


def test_follow_up_uses_history(client: httpx.Client) -> None:
    # threshold 0: this test is about the history, not about the first answer's confidence
    first = ask(client, question="Who is Balenciaga's creative director?", threshold=0).json()
    assert "Demna" in first["answer"]
    history = [{"role": "user", "content": first["question"]}, {"role": "assistant", "content": first["reply"]}]
    r = ask(client, question="How did he apologize?", history=history)
    assert r.status_code == 200, r.text
    follow = r.json()
    assert follow["abstained"] is False
    assert "apologiz" in follow["sentence"].lower()
    assert "Demna" in follow["resolved_question"] or "creative director" in follow["resolved_question"]


def test_threshold_overrides_abstention(client: httpx.Client) -> None:
    q = "What is the capital of France?"
    assert ask(client, question=q).json()["abstained"] is True
    forced = ask(client, question=q, threshold=0).json()
    assert forced["abstained"] is False and forced["citations"]
    assert ask(client, question=LAWSUIT_Q, threshold=1).json()["abstained"] is True


def test_abstention_says_so_and_offers_related(client: httpx.Client) -> None:
    a = ask(client, question="What is the capital of France?").json()
    assert a["abstained"] is True
    assert a["answer"] is None and a["citations"] == []
    assert a["reply"].startswith("The articles don't say")
    assert a["related"]


def test_top_k_candidates_and_filters(client: httpx.Client) -> None:
    docs = client.get("/api/documents").json()
    only = docs[1]["id"]
    a = ask(client, question="What did Kim Kardashian say?", top_k=3, candidates=3, threshold=0).json()
    assert 1 <= len(a["candidates"]) <= 3
    assert len(a["related"]) <= 3
    a = ask(client, question="What did Kim Kardashian say?", filters={"doc_ids": [only]}, threshold=0).json()
    assert {c["doc_id"] for c in a["citations"]} == {only}
    assert {p["doc_id"] for p in a["related"]} == {only}
    a = ask(client, question="Balenciaga ambassador", filters={"date_from": "2024-01-01"}, threshold=0).json()
    dated = {d["id"]: d["date"] for d in docs}
    assert all(dated[p["doc_id"]] and dated[p["doc_id"]] >= "2024-01-01" for p in a["related"])


@pytest.mark.parametrize("filters", [{"date_from": "2099-01-01"}, {"sources": ["no-such-source"]}])
def test_filters_no_document_passes_abstain_with_200(client: httpx.Client, filters: dict[str, Any]) -> None:
    r = ask(client, question="Who is Demna?", filters=filters)
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["abstained"] is True and a["answer"] is None and a["citations"] == [] and a["related"] == []


LONG = "a" * 1001
BAD_ASKS: list[tuple[str, Any, int, str, str | None]] = [
    # (case, JSON body or raw bytes, status, text the detail must contain, param)
    ("empty question", {"question": ""}, 400, "question is empty", None),
    ("whitespace question", {"question": "  \n\t "}, 400, "question is empty", None),
    ("over-long question", {"question": LONG}, 400, "the limit is 1000", None),
    ("null question", {"question": None}, 400, "question", "question"),
    ("question not a string", {"question": 42}, 400, "Expected `str`", "question"),
    ("missing question", {"top_k": 3}, 400, "missing required field `question`", "question"),
    ("unknown field", {"question": "Who?", "treshold": 0.2}, 400, "unknown field `treshold`", "treshold"),
    ("malformed JSON", b'{"question": "Who?",', 400, "not valid JSON", None),
    ("empty body", b"", 400, "body is empty", None),
    ("array body", b'["Who?"]', 400, "Expected `object`", None),
    ("top_k as string", {"question": "Who?", "top_k": "5"}, 400, "top_k", "top_k"),
    ("top_k bool", {"question": "Who?", "top_k": True}, 400, "top_k", "top_k"),
    ("top_k zero", {"question": "Who?", "top_k": 0}, 400, "top_k must be an integer from 1 to 50", None),
    ("top_k huge", {"question": "Who?", "top_k": 10_000}, 400, "top_k must be an integer from 1 to 50", None),
    ("candidates zero", {"question": "Who?", "candidates": 0}, 400, "candidates must be", None),
    ("candidates huge", {"question": "Who?", "candidates": 99}, 400, "candidates must be", None),
    ("threshold above 1", {"question": "Who?", "threshold": 1.5}, 400, "<= 1.0", "threshold"),
    ("threshold negative", {"question": "Who?", "threshold": -0.1}, 400, ">= 0.0", "threshold"),
    ("threshold string", {"question": "Who?", "threshold": "high"}, 400, "threshold", "threshold"),
    ("filters not an object", {"question": "Who?", "filters": "recent"}, 400, "filters", "filters"),
    ("filters unknown key", {"question": "Who?", "filters": {"bogus": 1}}, 400, "unknown field `bogus`", "filters"),
    ("filters bad date", {"question": "Who?", "filters": {"date_from": "2024"}}, 400, "filters.date_from", None),
    (
        "filters reversed dates",
        {"question": "Who?", "filters": {"date_from": "2024-02-01", "date_to": "2023-01-01"}},
        400,
        "date_from is after",
        None,
    ),
    ("filters unknown doc", {"question": "Who?", "filters": {"doc_ids": ["nope"]}}, 400, "unknown document id", None),
    ("history not a list", {"question": "Who?", "history": "earlier"}, 400, "history", "history"),
    (
        "history bad role",
        {"question": "Who?", "history": [{"role": "bot", "content": "hi"}]},
        400,
        "Invalid enum value 'bot'",
        "history[0].role",
    ),
    (
        "history content not text",
        {"question": "Who?", "history": [{"role": "user", "content": 5}]},
        400,
        "Expected `str`",
        "history[0].content",
    ),
    (
        "history missing content",
        {"question": "Who?", "history": [{"role": "user"}]},
        400,
        "missing required field `content`",
        "history[0]",
    ),
    (
        "history too long",
        {"question": "Who?", "history": [{"role": "user", "content": "q"}] * 51},
        400,
        "history has 51 messages; the limit is 50",
        None,
    ),
]


@pytest.mark.parametrize(("case", "body", "status", "needle", "param"), BAD_ASKS, ids=[c[0] for c in BAD_ASKS])
def test_bad_ask_is_a_4xx_naming_the_problem(
    client: httpx.Client, case: str, body: Any, status: int, needle: str, param: str | None
) -> None:
    if isinstance(body, bytes):
        r = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    else:
        r = client.post("/api/ask", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()
    assert err["status_code"] == status
    assert needle in err["detail"], err
    if param is not None:
        assert err.get("param") == param, err
    assert "Traceback" not in r.text


def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    r = client.post("/api/ask", json={"question": "x" * 70_000})
    assert r.status_code == 413
    assert "65536 bytes" in r.json()["detail"]


def test_wrong_method_and_unknown_route_are_json(client: httpx.Client) -> None:
    r = client.get("/api/ask")
    assert r.status_code == 405 and r.json()["status_code"] == 405
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["detail"]


def test_concurrent_asks_all_succeed_and_the_loop_stays_responsive(live_server) -> None:
    """16 questions at once: none fails, and /health still answers promptly (the engine runs off the loop)."""

    async def run() -> tuple[list[int], float]:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as c:
            asks = [c.post("/api/ask", json={"question": LAWSUIT_Q}) for _ in range(16)]
            pending = asyncio.gather(*asks)
            await asyncio.sleep(0.05)
            t0 = time.perf_counter()
            h = await c.get("/health")
            health_s = time.perf_counter() - t0
            assert h.status_code == 200
            return [r.status_code for r in await pending], health_s

    statuses, health_s = asyncio.run(run())
    assert statuses == [200] * 16
    assert health_s < 1.0, f"/health took {health_s:.2f} s while questions were being answered"


# -- documents ------------------------------------------------------------------------------------------


def test_documents_list_and_detail(client: httpx.Client) -> None:
    r = client.get("/api/documents")
    assert r.status_code == 200
    docs = r.json()
    assert len(docs) == 5
    assert set(docs[0]) >= {"id", "title", "date", "source", "length"}
    assert [d["id"] for d in docs] == sorted(d["id"] for d in docs)
    d = client.get(f"/api/documents/{docs[0]['id']}").json()
    assert d["id"] == docs[0]["id"] and d["title"] == docs[0]["title"]
    assert len(d["text"]) == docs[0]["length"]


def test_unknown_document_is_404_naming_it(client: httpx.Client) -> None:
    r = client.get("/api/documents/no-such-article")
    assert r.status_code == 404
    assert r.json()["detail"] == "unknown document id: 'no-such-article'"


# -- schema and page ------------------------------------------------------------------------------------


def test_openapi_schema_documents_the_api(client: httpx.Client) -> None:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    for path in ("/api/ask", "/api/documents", "/api/documents/{doc_id}", "/health", "/v1/chat/completions"):
        assert path in spec["paths"], path
    body = spec["paths"]["/api/ask"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"question", "history", "top_k", "filters", "candidates", "threshold"}
    assert body["required"] == ["question"]


def test_chat_page_and_static_files(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert '<script src="/static/app.js"' in r.text
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        s = client.get(f"/static/{name}")
        assert s.status_code == 200 and kind in s.headers["content-type"]
    assert "innerHTML" not in client.get("/static/app.js").text
    assert "http" not in client.get("/static/style.css").text  # no external fonts or images


# -- error paths that need an app of their own (in-process) -------------------------------------------------


@pytest.fixture(scope="module")
def broken_app_client(tmp_path_factory):
    """The real app whose engine cannot load (no model at the configured path)."""
    from litestar import get
    from litestar.testing import TestClient

    from qa.settings import Settings
    from server.app import create_app

    work: Path = tmp_path_factory.mktemp("broken")
    settings = Settings.from_env(env={}, model_path=str(work / "no-model"), index_dir=work / "index")
    app = create_app(settings)

    # A route that fails unexpectedly, to check the catch-all handler (the API has no such route).
    @get(["/api/boom", "/v1/boom"], sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.register(boom)
    # A Host the app serves (server/hardening.py; TestClient's own "testserver.local" gets 400).
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        deadline = time.monotonic() + 30
        while c.get("/health").json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        yield c


def test_failed_load_reports_error(broken_app_client) -> None:
    r = broken_app_client.get("/health")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "error"
    assert "no-model" in body["detail"]
    r = broken_app_client.post("/api/ask", json={"question": "Who?"})
    assert r.status_code == 503 and "failed to load" in r.json()["detail"]
    r = broken_app_client.post(
        "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "Who?"}]}
    )
    assert r.status_code == 503 and r.json()["error"]["type"] == "server_error"


def test_document_writes_wait_for_a_loaded_engine(tmp_path: Path) -> None:
    """A change accepted before the engine loads would be written but never indexed: 503, nothing written."""
    from litestar.testing import TestClient

    from qa.settings import Settings
    from server.app import create_app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings.from_env(env={}, model_path=str(tmp_path / "no-model"), index_dir=tmp_path / "index",
                                 corpus_dir=corpus, api_token="test-token-0123456789abcdef")  # fmt: skip
    auth = {"Authorization": "Bearer test-token-0123456789abcdef"}
    with TestClient(create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        deadline = time.monotonic() + 30
        while c.get("/health").json()["status"] == "loading" and time.monotonic() < deadline:
            time.sleep(0.05)
        doc = {"id": "note-1", "text": "The ferry returned to service on Monday."}
        for r in (c.post("/api/documents", json=doc, headers=auth),
                  c.put("/api/documents/note-1", json={"text": doc["text"]}, headers=auth),
                  c.delete("/api/documents/note-1", headers=auth)):  # fmt: skip
            assert r.status_code == 503 and "failed to load" in r.json()["detail"], r.text
        assert c.post("/api/documents", json=doc).status_code == 401  # the token is still checked first
    assert list(corpus.iterdir()) == []


def test_unexpected_error_is_a_plain_json_500(broken_app_client) -> None:
    r = broken_app_client.get("/api/boom")
    assert r.status_code == 500
    assert r.json() == {"status_code": 500, "detail": "internal server error"}
    r = broken_app_client.get("/v1/boom")
    assert r.status_code == 500
    assert r.json()["error"]["type"] == "server_error"
    assert "secret" not in r.text
