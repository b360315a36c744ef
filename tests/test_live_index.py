"""A live corpus: a running server swaps to newly published index builds, and documents change over HTTP.

Real server processes (uvicorn), the real models and real builds, on a copy of the seed corpus.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import QA, ServerProcess, free_port, start_server, wait_for

from index.build import build_index
from index.leases import BuildLease
from index.store import current_build_dir

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-token-0123456789abcdef"
NEW_ARTICLE = (
    "Harbour council approves floating library\n\n"
    "The Tallin Bay harbour council voted on Tuesday to build a floating library on a converted ferry. "
    "The library will hold 12,000 books and open in the spring, said the council's chair, Maret Ilves.\n"
)
NEW_Q = "How many books will the floating library hold?"


def start(work: Path, corpus: Path, index: Path, name: str, cmd: list[str] | None = None,
          **env_extra: str) -> ServerProcess:  # fmt: skip
    """A server (by default uvicorn over server.app:app) on the folders, checking for new builds every 0.2 s."""
    port = free_port()
    env = {"QA_INDEX_DIR": str(index), "QA_CORPUS_DIR": str(corpus), "QA_RELOAD_INTERVAL_S": "0.2", **env_extra}
    cmd = cmd or [sys.executable, "-m", "uvicorn", "server.app:app", "--host", "127.0.0.1", "--port", str(port)]
    return start_server(env, work / f"{name}.log", cmd, port)


def wait_ready(server: ServerProcess, timeout: float = 300) -> dict:
    return server.wait_health(timeout=timeout).json()


@pytest.fixture(scope="module")
def live(tmp_path_factory, seed_index_dir) -> Iterator[tuple[ServerProcess, Path, Path]]:
    work = tmp_path_factory.mktemp("live-index")
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    shutil.copytree(seed_index_dir, index)  # the same documents: the server's own refresh reuses every vector
    with start(work, corpus, index, "server", QA_API_TOKEN=TOKEN) as server:
        wait_ready(server)
        yield server, corpus, index


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def _settled(url: str) -> dict | None:
    """/api/index once no rebuild is pending or running."""
    body = httpx.get(f"{url}/api/index", timeout=10).json()
    return body if body["rebuild"]["state"] == "idle" else None


# -- the live swap -------------------------------------------------------------------------------------------


def test_server_swaps_to_a_build_published_from_a_shell_while_answering(live, embedder) -> None:
    server, corpus, index = live
    before = httpx.get(f"{server.url}/health").json()["index_build"]
    assert httpx.post(f"{server.url}/api/ask", json={"question": NEW_Q}).json()["abstained"] is True

    # Questions keep arriving while another process publishes a new build: none may fail.
    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            while not stop.is_set():
                statuses.append(c.post("/api/ask", json={"question": "Who is Demna?"}).status_code)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        (corpus / "harbour.txt").write_text(NEW_ARTICLE)
        build_index(corpus, index, embedder, progress=False)  # what `qa index build` does, from this process
        published = current_build_dir(index).name
        wait_for(lambda: httpx.get(f"{server.url}/health").json()["index_build"] == published, 30, "the swap")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert published != before
    assert statuses and set(statuses) == {200}, statuses
    a = httpx.post(f"{server.url}/api/ask", json={"question": NEW_Q}).json()
    assert a["abstained"] is False and "12,000" in a["answer"], a
    doc = httpx.get(f"{server.url}/api/documents/{a['citations'][0]['doc_id']}").json()
    assert doc["text"][a["answer_start"] : a["answer_end"]] == a["answer"]
    # The server was still on the old build while the new one was published, so that build kept it...
    assert (index / "builds" / before).is_dir()
    (corpus / "harbour.txt").unlink()
    build_index(corpus, index, embedder, progress=False)
    published = current_build_dir(index).name
    wait_for(lambda: httpx.get(f"{server.url}/health").json()["index_build"] == published, 30, "the swap back")
    # ...and the next build removed it, the server having let go of it.
    assert not (index / "builds" / before).exists()


def test_a_build_in_use_is_kept_until_released(tmp_path, seed_index_dir, embedder) -> None:
    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    old = current_build_dir(index)
    lease = BuildLease(old)  # as a server serving it holds
    build_index(ROOT / "corpus", index, embedder, progress=False)
    assert old.is_dir(), "a build a server still uses must not be removed"
    lease.release()
    build_index(ROOT / "corpus", index, embedder, progress=False)
    assert not old.exists()
    assert [p.name for p in (index / "builds").iterdir()] == [current_build_dir(index).name]


def test_a_server_whose_first_load_failed_serves_the_next_published_build(tmp_path, embedder) -> None:
    """Started before any index exists (QA_AUTO_BUILD=false), the server reports the error, then loads once a
    build is published from a shell, as a running server follows CURRENT."""
    from qa.settings import Settings
    from server.state import EngineHolder

    index = tmp_path / "index"
    settings = Settings.from_env(env={}, index_dir=index, corpus_dir=ROOT / "corpus", auto_build=False,
                                 reload_interval_s=0.2, reader="rules")  # fmt: skip
    holder = EngineHolder(settings)
    holder.start()
    try:
        wait_for(lambda: holder.status == "error", 120, "the failed first load")
        assert holder.engine is None and "no index" in (holder.detail or ""), holder.detail
        build_index(ROOT / "corpus", index, embedder, progress=False)
        wait_for(lambda: holder.status == "ready", 120, "the load after the build was published")
        assert holder.engine is not None
        assert holder.engine.index.build_dir.name == current_build_dir(index).name
        assert holder.engine.ask("Who is Balenciaga's creative director?").related
    finally:
        holder.stop()


def test_a_build_that_fails_to_swap_in_is_released_and_not_retried(tmp_path, seed_index_dir, embedder,
                                                                   monkeypatch) -> None:  # fmt: skip
    """Whatever goes wrong while swapping a new build in, its lease is let go (so it can be pruned), the old
    build keeps serving, and the same build is not loaded again on every tick."""
    from index.leases import in_use
    from qa.engine import Engine
    from qa.settings import Settings
    from server.state import EngineHolder

    index = tmp_path / "index"
    shutil.copytree(seed_index_dir, index)
    settings = Settings.from_env(env={}, index_dir=index, corpus_dir=ROOT / "corpus", auto_build=False,
                                 reload_interval_s=0, reader="rules")  # fmt: skip
    holder = EngineHolder(settings, Engine.load(settings, embedder, build=False))
    served = holder.engine.index.build_dir.name
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "harbour.txt").write_text("The harbour reopened on Monday after a week of repairs.\n")
    build_index(tmp_path / "corpus", index, embedder, progress=False)
    new = current_build_dir(index)
    calls = []

    def broken_with_index(self, index, retriever=None):
        calls.append(index.build_dir.name)
        raise RuntimeError("an unexpected failure while preparing the new engine")

    monkeypatch.setattr(Engine, "with_index", broken_with_index)
    assert holder.refresh() is False and holder.refresh() is False
    assert calls == [new.name], "a build that failed is not loaded again until another replaces it"
    assert holder.engine.index.build_dir.name == served
    assert not in_use(new), "the failed build's lease must be released"


# -- documents over HTTP ---------------------------------------------------------------------------------------


def test_document_writes_need_the_token(live) -> None:
    server, corpus, _ = live
    files = sorted(p.name for p in corpus.iterdir())
    body = {"text": NEW_ARTICLE}
    r = httpx.post(f"{server.url}/api/documents", json=body)
    assert r.status_code == 401 and "bearer token" in r.json()["detail"]
    r = httpx.post(f"{server.url}/api/documents", json=body, headers={"Authorization": "Bearer wrong-token-xxxxxxxx"})
    assert r.status_code == 401
    assert httpx.delete(f"{server.url}/api/documents/000_898400add2b9d695").status_code == 401
    assert sorted(p.name for p in corpus.iterdir()) == files


def test_add_replace_delete_a_document_and_the_answers_follow(live) -> None:
    server, corpus, _ = live
    new = {"id": "harbour-library", "text": NEW_ARTICLE, "date": "2026-11-30", "source": "Bay News"}
    r = httpx.post(f"{server.url}/api/documents", headers=_auth(), json=new)
    assert r.status_code == 202, r.text
    assert r.json()["documents"][0]["id"] == "harbour-library"
    assert (corpus / "harbour-library.jsonl").is_file()
    last = wait_for(lambda: _settled(server.url), 120, "the rebuild")["rebuild"]["last"]
    assert last["ok"] is True and last["added"] == ["harbour-library"], last
    a = httpx.post(f"{server.url}/api/ask", json={"question": NEW_Q}).json()
    assert a["answer"] == "12,000 books" or "12,000" in a["answer"], a
    assert a["citations"][0]["doc_id"] == "harbour-library"

    r = httpx.put(f"{server.url}/api/documents/harbour-library", headers=_auth(),
                  json={"text": NEW_ARTICLE.replace("12,000", "30,000"), "date": "2026-12-01"})  # fmt: skip
    assert r.status_code == 202, r.text
    wait_for(lambda: _settled(server.url), 120, "the rebuild after PUT")
    a = httpx.post(f"{server.url}/api/ask", json={"question": NEW_Q}).json()
    assert "30,000" in a["answer"], a
    doc = httpx.get(f"{server.url}/api/documents/harbour-library").json()
    assert doc["date"] == "2026-12-01" and doc["text"][a["answer_start"] : a["answer_end"]] == a["answer"]

    assert httpx.delete(f"{server.url}/api/documents/harbour-library", headers=_auth()).status_code == 202
    assert not (corpus / "harbour-library.jsonl").exists()
    wait_for(lambda: _settled(server.url), 120, "the rebuild after DELETE")
    assert httpx.get(f"{server.url}/api/documents/harbour-library").status_code == 404
    assert httpx.post(f"{server.url}/api/ask", json={"question": NEW_Q}).json()["abstained"] is True


def test_upload_files_and_bad_files_write_nothing(live) -> None:
    server, corpus, _ = live
    before = sorted(p.name for p in corpus.iterdir())
    bad = [
        ("empty.txt", b"   \n"),
        ("broken.jsonl", b'{"id": "x", "title": "t", "text": "ok"}\nnot json\n'),
        ("binary.txt", b"\xff\xfe\x00\x01garbage"),
        ("script.exe", b"MZ"),
        ("../escape.txt", NEW_ARTICLE.encode()),
        (".hidden.txt", NEW_ARTICLE.encode()),
    ]
    for name, data in bad:
        r = httpx.post(f"{server.url}/api/documents", headers=_auth(), files={"file": (name, data)})
        assert r.status_code == 400, (name, r.status_code, r.text)
        assert r.json()["detail"], name
    # One good and one bad file together: the good one is not written either.
    r = httpx.post(f"{server.url}/api/documents", headers=_auth(),
                   files=[("file", ("good.md", NEW_ARTICLE.encode())), ("file", ("empty.txt", b""))])  # fmt: skip
    assert r.status_code == 400
    assert sorted(p.name for p in corpus.iterdir()) == before, "a rejected upload must write nothing"

    r = httpx.post(f"{server.url}/api/documents", headers=_auth(), files={"file": ("harbour.md", NEW_ARTICLE.encode())})
    assert r.status_code == 202, r.text
    assert r.json()["documents"][0]["id"] == "harbour"
    assert httpx.post(f"{server.url}/api/documents", headers=_auth(),
                      files={"file": ("harbour.md", NEW_ARTICLE.encode())}).status_code == 409  # fmt: skip
    wait_for(lambda: _settled(server.url), 120, "the rebuild after the upload")
    assert httpx.get(f"{server.url}/api/documents/harbour").status_code == 200
    assert httpx.delete(f"{server.url}/api/documents/harbour", headers=_auth()).status_code == 202
    wait_for(lambda: _settled(server.url), 120, "the rebuild after DELETE")


def test_document_write_errors_are_clear(live) -> None:
    server, _, _ = live
    url = f"{server.url}/api/documents"
    r = httpx.post(url, headers={**_auth(), "Content-Type": "text/plain"}, content=b"hello")
    assert r.status_code == 415
    r = httpx.put(f"{url}/no-such-doc", headers=_auth(), json={"text": NEW_ARTICLE})
    assert r.status_code == 404 and "no-such-doc" in r.json()["detail"]
    assert httpx.delete(f"{url}/no-such-doc", headers=_auth()).status_code == 404
    r = httpx.post(url, headers=_auth(), json={"id": "000_898400add2b9d695", "text": NEW_ARTICLE})
    assert r.status_code == 409
    r = httpx.post(url, headers=_auth(), json={"id": "../../etc/passwd", "text": NEW_ARTICLE})
    assert r.status_code == 400
    r = httpx.post(url, headers=_auth(), json={"text": ""})
    assert r.status_code == 400
    r = httpx.post(url, headers=_auth(), json={"text": NEW_ARTICLE, "date": "yesterday"})
    assert r.status_code == 400 and "date" in r.json()["detail"]
    r = httpx.post(url, headers=_auth(), files={"file": ("big.txt", b"x" * 10_000_001)})
    assert r.status_code == 413 and "10000000 bytes (QA_MAX_UPLOAD_BYTES)" in r.json()["detail"], r.text
    r = httpx.post(url, headers=_auth(), json={"text": NEW_ARTICLE, "date": "2024-13-45"})
    assert r.status_code == 400 and "not a calendar date" in r.json()["detail"], r.text
    broken = b'{"id": "half", "title": "Broken", "text": "Broken \\ud800 escape."}\n'
    r = httpx.post(url, headers=_auth(), files={"file": ("half.jsonl", broken)})
    assert r.status_code == 400 and "surrogate" in r.json()["detail"], r.text


def test_writes_are_off_without_a_token(tmp_path, seed_index_dir) -> None:
    """Through the app in-process (same create_app), with no QA_API_TOKEN: 403 that says how to enable."""
    from litestar.testing import TestClient

    from qa.settings import Settings
    from server.app import create_app

    settings = Settings.from_env(env={}, corpus_dir=ROOT / "corpus", index_dir=seed_index_dir, auto_build=False,
                                 reload_interval_s=0)  # fmt: skip
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:  # a Host the app serves
        r = client.post("/api/documents", json={"text": NEW_ARTICLE})
        assert r.status_code == 403 and "QA_API_TOKEN" in r.json()["detail"]
        assert client.get("/api/index").json()["writes_enabled"] is False


# -- two servers on one folder ----------------------------------------------------------------------------------


def test_two_servers_started_together_on_one_empty_folder_both_serve(tmp_path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    a = start(tmp_path, corpus, index, "a")
    b = start(tmp_path, corpus, index, "b", cmd=[QA, "serve"])
    try:
        ha, hb = wait_ready(a), wait_ready(b)
        assert ha["documents"] == hb["documents"] == 5
        # Whichever built second refreshed the first one's build; both end on the published build.
        published = current_build_dir(index).name
        wait_for(lambda: all(httpx.get(f"{s.url}/health").json()["index_build"] == published for s in (a, b)),
                 30, "both on the published build")  # fmt: skip
    finally:
        a.stop()
        b.stop()
