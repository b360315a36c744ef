"""Hostile and malformed requests against the real server process: nesting bombs, oversized and endless headers,
trickled bodies, foreign Host headers, cross-site form posts, and input that only looks valid.

Most tests use the session's `live_server` (`python -m server.run`, granian, default limits); the timeout
tests use a server of their own started with short QA_HEADER_TIMEOUT_S / QA_BODY_TIMEOUT_S.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import start_server

ROOT = Path(__file__).resolve().parent.parent
LAWSUIT_Q = "How much was the lawsuit against the set designer?"
DEEP = "[" * 1000 + "]" * 1000  # ~2 KB: made msgspec raise RecursionError (HTTP 500 and a logged traceback)
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


@pytest.fixture(scope="module")
def http(live_server) -> httpx.Client:
    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        yield c


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> str:
    """Send `data` on a fresh connection; the status line answered, "closed", or "reset"."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with contextlib.suppress(OSError):  # the server may close before all is sent; its answer may be there
            s.sendall(data)
        try:
            answer = s.recv(4096)
        except ConnectionResetError:
            return "reset"
    return answer.split(b"\r\n", 1)[0].decode() if answer else "closed"


def server_log_since(live_server, offset: int) -> str:
    return live_server.log_path.read_text(errors="replace")[offset:]


def log_size(live_server) -> int:
    return len(live_server.log_path.read_text(errors="replace"))


# -- 1. nesting bombs -------------------------------------------------------------------------------------


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": LAWSUIT_Q}], **extra}


NESTED_CHATS = {
    "tool_choice": chat(tool_choice="@"),
    "tools": chat(tools="@"),
    "functions": chat(functions="@"),
    "function_call": chat(function_call="@"),
    "audio": chat(audio="@"),
    "messages[].tool_calls": {"model": "m", "messages": [{"role": "user", "content": "hi", "tool_calls": "@"}]},
    "unknown message key": {"model": "m", "messages": [{"role": "user", "content": "hi", "name": "@"}]},
}


def _with_bomb(body: dict[str, Any]) -> bytes:
    import json

    return json.dumps(body).replace('"@"', DEEP).encode()


@pytest.mark.parametrize("field", list(NESTED_CHATS), ids=list(NESTED_CHATS))
def test_deeply_nested_chat_field_is_a_400_without_traceback(live_server, http: httpx.Client, field: str) -> None:
    offset = log_size(live_server)
    body = _with_bomb(NESTED_CHATS[field])
    assert len(body) < 2500
    r = http.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "nested_too_deeply" and "nested too deeply" in err["message"]
    time.sleep(0.2)
    logged = server_log_since(live_server, offset)
    assert "Traceback" not in logged and "RecursionError" not in logged


@pytest.mark.parametrize(
    "body",
    [
        {"question": "Who?", "filters": "@"},
        {"question": "Who?", "history": "@"},
        {"question": "Who?", "filters": {"doc_ids": "@"}},
        {"question": "Who?", "history": [{"role": "user", "content": "@"}]},
    ],
    ids=["filters", "history", "filters.doc_ids", "history content"],
)
def test_deeply_nested_ask_field_is_a_400(live_server, http: httpx.Client, body: dict[str, Any]) -> None:
    offset = log_size(live_server)
    r = http.post("/api/ask", content=_with_bomb(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert "nested too deeply" in r.json()["detail"]
    time.sleep(0.2)
    assert "Traceback" not in server_log_since(live_server, offset)


def test_brackets_inside_strings_and_moderate_nesting_are_fine(http: httpx.Client) -> None:
    r = http.post("/api/ask", json={"question": "[" * 500 + " Who is Demna? " + "}" * 400, "threshold": 0})
    assert r.status_code == 200, r.text
    r = http.post("/v1/chat/completions", json=chat(metadata={"k": "{" * 100}))
    assert r.status_code == 200, r.text


def test_nesting_scan_is_exact() -> None:
    from server.errors import MAX_JSON_DEPTH, nested_too_deeply

    assert not nested_too_deeply(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert nested_too_deeply(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert not nested_too_deeply(b'{"a": "' + b"[" * 5000 + b'", "b": "\\"[[[["}')
    assert not nested_too_deeply(b"[]" * 5000)
    t0 = time.perf_counter()  # unterminated strings with escaped quotes: still linear
    nested_too_deeply(b'"\\"' * 20000 + b"\\" + b"[[" * 40)
    assert time.perf_counter() - t0 < 0.5


# -- 2. header limits and read timeouts ------------------------------------------------------------------


def test_oversized_header_is_refused_and_the_server_stays_healthy(live_server, http: httpx.Client) -> None:
    port = _port(live_server.url)
    start = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(start)
        sent = 0
        try:
            while sent < 50_000_000:  # the 50 MB header the server used to read whole
                s.sendall(b"a" * 65536)
                sent += 65536
            s.sendall(b"\r\n\r\n")
        except OSError:
            pass
        try:
            answer = s.recv(4096).split(b"\r\n", 1)[0].decode()
        except ConnectionResetError:
            answer = "reset"
    assert sent < 10_000_000, f"the server read {sent} bytes of one header"
    assert answer in ("HTTP/1.1 431 Request Header Fields Too Large", "closed", "reset"), answer
    status = raw_exchange(port, start + b"a" * 20_000 + b"\r\n\r\n")
    assert status.startswith("HTTP/1.1 431"), status
    assert http.get("/health").status_code == 200


@pytest.mark.parametrize("count", [1000, 10_000])
def test_too_many_headers_are_refused(live_server, http: httpx.Client, count: int) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(count))
    status = raw_exchange(_port(live_server.url), b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
    assert status.startswith("HTTP/1.1 431") or status in ("closed", "reset"), status
    assert http.get("/health").status_code == 200


def test_ordinary_headers_pass(live_server) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 50) for i in range(80))
    status = raw_exchange(_port(live_server.url), b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
    assert status == "HTTP/1.1 200 OK", status


def test_unread_body_closes_the_connection_openly(live_server) -> None:
    """The server drops a connection whose request body the app did not read (413, 415, 404); the response
    must say `Connection: close`, or a client reuses the connection and gets "Server disconnected"."""
    with httpx.Client(base_url=live_server.url, timeout=30) as c:
        for _ in range(5):
            big = c.post("/api/ask", content=b"x" * 70_000, headers={"Content-Type": "application/json"})
            assert big.status_code == 413 and big.headers["connection"] == "close"
            plain = c.post("/api/ask", content=b'{"question": "Who?"}', headers={"Content-Type": "text/plain"})
            assert plain.status_code == 415 and plain.headers["connection"] == "close"
            lost = c.post("/api/nothing-here", json={"question": "Who?"})
            assert lost.status_code == 404 and lost.headers["connection"] == "close"
            assert c.get("/api/documents").status_code == 200  # right after: a fresh connection, no error
        ok = c.post("/api/ask", json={"question": LAWSUIT_Q})
        assert ok.status_code == 200 and ok.headers.get("connection") != "close"  # read bodies keep it alive


HEADER_TIMEOUT_S = 1.5
BODY_TIMEOUT_S = 2.0
STRICT_INDEX_DIRS: dict[str, Path] = {}  # server URL -> its (missing) index folder


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """`python -m server.run` with short read timeouts, over an index that is missing (no engine needed: the
    503 it answers with also carries an absolute path to hide)."""
    work = tmp_path_factory.mktemp("strict-server")
    env = {
        "QA_INDEX_DIR": str(work / "missing-index"),
        "QA_AUTO_BUILD": "false",
        "QA_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "QA_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
    }
    with start_server(env, work / "server.log") as server:
        STRICT_INDEX_DIRS[server.url] = work / "missing-index"
        server.wait_health(ready=lambda r: r.json().get("status") == "error", timeout=120)
        yield server.url


def test_slowloris_header_trickle_is_cut_within_the_timeout(strict_server: str) -> None:
    port = _port(strict_server)
    conns = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        conns.append(s)
    t0 = time.monotonic()
    open_ = list(conns)
    while open_ and time.monotonic() - t0 < HEADER_TIMEOUT_S + 5:
        still = []
        for s in open_:
            try:
                s.sendall(b"X-Slow: 1\r\n")  # one header line every 0.25 s, never the end of the headers
                still.append(s)
            except OSError:
                s.close()
        open_ = still
        time.sleep(0.25)
        if open_ and time.monotonic() - t0 > HEADER_TIMEOUT_S:
            assert httpx.get(f"{strict_server}/health", timeout=5).status_code == 503  # others still served
    elapsed = time.monotonic() - t0
    for s in conns:
        s.close()
    assert not open_, f"{len(open_)} of 50 trickling connections still open after {elapsed:.1f} s"
    assert elapsed < HEADER_TIMEOUT_S + 3


def trickle_body(port: int, head: bytes, seconds: float) -> tuple[bytes, float]:
    """Send `head`, then one body byte every 0.2 s until the server answers; all it sent, and when it began.

    Reads before it writes: once the server has answered and closed, a further byte can draw a reset, and a
    send that fails must not stop the test from reading the answer already here (a flaky CI failure, b'').
    """
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as s:
        s.sendall(head)
        t0 = time.monotonic()
        answer, first, sending = b"", None, True
        while time.monotonic() - t0 < seconds:
            readable, _, _ = select.select([s], [], [], 0.2)
            if readable:
                try:
                    chunk = s.recv(65536)
                except OSError:  # reset after the answer: what arrived before it is kept
                    break
                if not chunk:
                    break
                first = first or time.monotonic()
                answer += chunk
            elif sending and first is None:
                try:
                    s.sendall(b" ")  # one byte every 0.2 s: the 200-byte body would take 40 s
                except OSError:
                    sending = False
        return answer, (first or time.monotonic()) - t0


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions"])
def test_trickled_body_is_cut_with_408_within_the_timeout(strict_server: str, path: str) -> None:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    answer, elapsed = trickle_body(_port(strict_server), head.encode(), BODY_TIMEOUT_S + 5)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert BODY_TIMEOUT_S - 0.5 < elapsed < BODY_TIMEOUT_S + 3
    assert b"QA_BODY_TIMEOUT_S" in answer and b"connection: close" in answer.lower()


def test_timeout_settings_are_checked() -> None:
    from qa.settings import Settings

    s = Settings.from_env(env={"QA_HEADER_TIMEOUT_S": "2.5", "QA_BODY_TIMEOUT_S": "3", "QA_MAX_HEADER_BYTES": "9000"})
    assert (s.header_timeout_s, s.body_timeout_s, s.max_header_bytes) == (2.5, 3.0, 9000)
    for bad in ({"header_timeout_s": 0}, {"header_timeout_s": 61}, {"body_timeout_s": 0}, {"max_header_bytes": 100}):
        with pytest.raises(ValueError):
            Settings.from_env(env={}, **bad)


# -- 3. cross-origin exposure -------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.nip.io", ""])
def test_foreign_host_header_is_a_400(live_server, http: httpx.Client, host: str) -> None:
    r = http.get("/api/documents", headers={"Host": host})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "Host" in r.json()["detail"]
    r = http.post("/v1/chat/completions", json=chat(), headers={"Host": host})
    assert r.status_code == 400 and "Host" in r.json()["error"]["message"]


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_loopback_host_names_are_served_on_any_port(live_server, http: httpx.Client, name: str) -> None:
    for host in (name, f"{name}:{_port(live_server.url)}", f"{name}:8000"):
        assert http.get("/health", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_setting() -> None:
    from qa.settings import Settings
    from server.hardening import allowed_hosts, host_allowed

    default = allowed_hosts(Settings.from_env(env={"QA_HOST": "10.0.0.5"}))
    assert default is not None and {"localhost", "127.0.0.1", "[::1]", "10.0.0.5"} <= default
    assert not host_allowed("evil.example", default)
    named = allowed_hosts(Settings.from_env(env={"QA_ALLOWED_HOSTS": "qa.example.com:8443, *.corp.example"}))
    assert named is not None
    assert host_allowed("qa.example.com", named) and host_allowed("QA.example.com:9", named)
    assert host_allowed("a.corp.example", named) and not host_allowed("corp.example.evil", named)
    assert not host_allowed("localhost", named)
    assert allowed_hosts(Settings.from_env(env={"QA_ALLOWED_HOSTS": "*"})) is None


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions"])
def test_post_that_is_not_json_is_a_415(http: httpx.Client, path: str, content_type: str | None) -> None:
    import json

    body = json.dumps({"question": LAWSUIT_Q} if path == "/api/ask" else chat()).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post(path, content=body, headers=headers)
    assert r.status_code == 415, r.text
    message = r.json()["detail"] if path == "/api/ask" else r.json()["error"]["message"]
    assert "application/json" in message


def test_json_with_charset_is_accepted(http: httpx.Client) -> None:
    import json

    r = http.post(
        "/api/ask",
        content=json.dumps({"question": LAWSUIT_Q}).encode(),
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert r.status_code == 200, r.text


SECURITY_CHECKS = [
    ("GET", "/health", None),
    ("GET", "/api/documents", None),
    ("GET", "/api/documents/no-such-article", None),
    ("GET", "/api/nothing-here", None),
    ("GET", "/api/ask", None),
    ("POST", "/api/ask", {"question": ""}),
    ("POST", "/api/ask", {"question": LAWSUIT_Q}),
    ("GET", "/v1/models", None),
    ("POST", "/v1/chat/completions", {"model": "m"}),
    ("GET", "/static/app.js", None),
    ("GET", "/static/style.css", None),
    ("GET", "/schema", None),
    ("GET", "/schema/openapi.json", None),
    ("GET", "/", None),
]


@pytest.mark.parametrize(("method", "path", "body"), SECURITY_CHECKS, ids=[f"{m} {p}" for m, p, _ in SECURITY_CHECKS])
def test_security_headers_on_every_response(http: httpx.Client, method: str, path: str, body: Any) -> None:
    r = http.request(method, path, json=body)
    missing = [h for h in SECURITY_HEADERS if h not in r.headers]
    assert not missing, (r.status_code, missing)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    if path != "/":
        assert "default-src 'none'" in r.headers["content-security-policy"]


def test_security_headers_on_host_rejection(http: httpx.Client) -> None:
    r = http.get("/health", headers={"Host": "evil.example"})
    assert r.status_code == 400 and all(h in r.headers for h in SECURITY_HEADERS)


def test_schema_pages_load_nothing_from_elsewhere(http: httpx.Client) -> None:
    r = http.get("/schema")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<script" not in page and "<link" not in page and "http://" not in page and "https://" not in page
    assert "/api/ask" in page and 'href="/schema/openapi.json"' in page
    assert http.get("/schema/openapi.json").json()["paths"]
    assert "openapi:" in http.get("/schema/openapi.yaml").text
    for ui in ("swagger", "redoc", "rapidoc", "elements", "scalar"):
        assert http.get(f"/schema/{ui}").status_code == 404, ui


def test_503_messages_hide_absolute_paths(strict_server: str) -> None:
    index_dir = str(STRICT_INDEX_DIRS[strict_server])
    with httpx.Client(base_url=strict_server, timeout=30) as c:
        r = c.post("/api/ask", json={"question": "Who?"})
        assert r.status_code == 503, r.text
        detail = r.json()["detail"]
        r = c.post("/v1/chat/completions", json=chat())
        assert r.status_code == 503, r.text
        message = r.json()["error"]["message"]
    for text in (detail, message):
        assert "failed to load" in text and "missing-index" in text, text  # the last component stays
        assert index_dir not in text and str(ROOT) not in text, text
        assert not any(word.strip("'`\"(").startswith("/") for word in text.split()), text


# -- 4. validation and its documentation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("date_from", "2024-02-30"), ("date_to", "2024-13-45"), ("date_from", "0000-00-00"), ("date_to", "2023-02-29")],
)
def test_impossible_date_is_a_400_naming_the_field(http: httpx.Client, field: str, value: str) -> None:
    r = http.post("/api/ask", json={"question": LAWSUIT_Q, "filters": {field: value}})
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert f"filters.{field}" in detail and value in detail


def test_real_leap_day_is_accepted(http: httpx.Client) -> None:
    r = http.post("/api/ask", json={"question": LAWSUIT_Q, "filters": {"date_from": "2020-02-29"}})
    assert r.status_code == 200, r.text


BLANK_QUESTIONS = ["\x00", "\x00" * 20, "\x01\x02\x1f\x7f", " \x00\t\n\x00 ", "\u200b\u200e\ufeff", "\u2028 \u3000"]


@pytest.mark.parametrize("question", BLANK_QUESTIONS, ids=[repr(q) for q in BLANK_QUESTIONS])
def test_question_of_only_control_or_blank_characters_is_a_400(http: httpx.Client, question: str) -> None:
    r = http.post("/api/ask", json={"question": question})
    assert r.status_code == 400, r.text
    assert "question is empty" in r.json()["detail"]
    r = http.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": question}]})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert "question is empty" in err["message"] and err["param"] == "messages"


@pytest.mark.parametrize("field", ["doc_ids", "sources"])
def test_empty_filter_list_is_a_400(http: httpx.Client, field: str) -> None:
    r = http.post("/api/ask", json={"question": LAWSUIT_Q, "filters": {field: []}})
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["detail"] == f"filters.{field} is empty; omit it for no filter"
    assert err["param"] == f"filters.{field}"


def test_filters_validate_in_code() -> None:
    from qa.errors import QuestionError
    from qa.filters import Filters

    for bad in (
        Filters(doc_ids=[]),
        Filters(sources=[]),
        Filters(date_from="2024-02-30"),
        Filters(date_to="0000-00-00"),
    ):
        with pytest.raises(QuestionError):
            bad.validate()
    assert Filters(date_from="2024-02-29", date_to="2024-03-01").validate() is not None


def test_openapi_documents_errors_and_constraints(http: httpx.Client) -> None:
    spec = http.get("/schema/openapi.json").json()
    for path in ("/api/ask", "/v1/chat/completions"):
        responses = spec["paths"][path]["post"]["responses"]
        assert {"200", "400", "413", "415", "503"} <= set(responses), (path, list(responses))
    api_error = spec["paths"]["/api/ask"]["post"]["responses"]["415"]["content"]["application/json"]["schema"]
    assert set(api_error["properties"]) >= {"status_code", "detail"}
    oai_error = spec["paths"]["/v1/chat/completions"]["post"]["responses"]["400"]["content"]["application/json"]
    assert "error" in oai_error["schema"]["properties"]
    body = spec["paths"]["/api/ask"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["question"]["minLength"] == 1
    filters = next(s for s in body["properties"]["filters"]["anyOf"] if s.get("type") == "object")
    for name in ("doc_ids", "sources"):
        array = next(s for s in filters["properties"][name]["anyOf"] if s.get("type") == "array")
        assert array["minItems"] == 1, name
    date = next(s for s in filters["properties"]["date_from"]["anyOf"] if s.get("type") == "string")
    assert date["format"] == "date"
