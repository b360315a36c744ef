"""Several worker processes behind one port (QA_WORKERS, `qa serve --workers`): each answers with its own
engine and each follows the index builds published while it serves.

One real `qa serve --workers 2` (granian's supervisor and two worker processes), the real models, on a copy
of the seed corpus and an empty index folder: `qa serve` builds the index, then the workers load it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from servers import QA, SERVE, ServerError, ServerProcess, start_server

from index.store import current_build_dir
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "workers-token-0123456789abcdef"
SEED_Q = "How much was the lawsuit against the set designer?"
SEED_DOC = "000_898400add2b9d695"
NEW_ID = "lighthouse-museum"
NEW_ARTICLE = (
    "Old lighthouse becomes a museum of the sea\n\n"
    "The lighthouse at Kessel Point reopened on Saturday as a museum of the sea after a two-year restoration. "
    "Its lamp room now shows 340 ship models, said the museum's director, Ilse Varga.\n"
)
NEW_Q = "How many ship models does the lighthouse museum show?"


@dataclass
class Workers:
    server: ServerProcess
    index: Path
    pids: set[int]


@pytest.fixture(scope="module")
def workers(tmp_path_factory) -> Iterator[Workers]:
    work = tmp_path_factory.mktemp("workers")
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(ROOT / "corpus", corpus)
    env = {"QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(index), "QA_API_TOKEN": TOKEN,
           "QA_RELOAD_INTERVAL_S": "0.2"}  # fmt: skip
    with start_server(env, work / "server.log", cmd=[QA, "serve", "--workers", "2"]) as server:
        pids = server.wait_workers(2, timeout=300)
        yield Workers(server, index, pids)


def _connection(r: httpx.Response) -> tuple[str, int]:
    """The client end of the TCP connection that carried `r`."""
    return r.extensions["network_stream"].get_extra_info("client_addr")


def on_each_worker(
    w: Workers,
    call: Callable[[httpx.Client], httpx.Response],
    ok: Callable[[httpx.Response], bool],
    what: str,
    timeout: float = 120,
) -> dict[int, httpx.Response]:
    """`call` on fresh connections until it has been `ok` on every worker; the worker that served a call is
    the one whose /health answered first on the same connection (a connection stays with one worker)."""
    deadline = time.monotonic() + timeout
    good: dict[int, httpx.Response] = {}
    last: dict[int, str] = {}
    while set(good) != w.pids:
        w.server.check_running()
        if time.monotonic() > deadline:
            raise ServerError(f"{what}: not seen on every worker within {timeout:.0f} s; ok on {sorted(good)} of "
                              f"{sorted(w.pids)}; last answers: {last}\n{w.server.log_tail()}")  # fmt: skip
        with httpx.Client(base_url=w.server.url, timeout=60) as client:
            health = client.get("/health")
            health_on = _connection(health)  # while the connection is open
            r = call(client)
            same_worker = _connection(r) == health_on
        if health.status_code != 200 or not same_worker:
            continue  # not one worker for both: cannot tell who answered
        pid = health.json()["pid"]
        assert pid in w.pids, f"a worker that was not there at the start answered: {pid} (workers {w.pids})"
        last[pid] = f"{r.status_code} {r.text[:300]}"
        if ok(r):
            good[pid] = r
        else:
            time.sleep(0.1)
    return good


def ask(question: str) -> Callable[[httpx.Client], httpx.Response]:
    return lambda client: client.post("/api/ask", json={"question": question})


def cites(doc_id: str, words: str) -> Callable[[httpx.Response], bool]:
    def check(r: httpx.Response) -> bool:
        a = r.json() if r.status_code == 200 else {}
        return (not a.get("abstained", True) and words in a["answer"]
                and bool(a["citations"]) and a["citations"][0]["doc_id"] == doc_id)  # fmt: skip

    return check


# -- the tests ---------------------------------------------------------------------------------------------------


def test_two_workers_answer_on_one_port(workers: Workers) -> None:
    """(a) Fresh connections to the one port reach two different worker processes, neither of them the
    supervisor that `qa serve` started as; the index was built once, before the workers started."""
    assert len(workers.pids) == 2
    assert workers.server.proc.pid not in workers.pids
    log = workers.server.log_tail(1_000_000)
    assert log.index("Building or refreshing the index") < log.index("Spawning worker-1"), log[-3000:]
    assert [p.name for p in (workers.index / "builds").iterdir() if not p.name.startswith(".")] == [
        current_build_dir(workers.index).name
    ]


def test_every_worker_answers_with_citations(workers: Workers) -> None:
    """(b) Each worker answers a question about the seed corpus, citing the text it quotes."""
    answers = on_each_worker(workers, ask(SEED_Q), cites(SEED_DOC, "25 million"), "the seed answer", timeout=60)
    for r in answers.values():
        a = r.json()
        doc = httpx.get(f"{workers.server.url}/api/documents/{SEED_DOC}").json()
        assert doc["text"][a["answer_start"] : a["answer_end"]] == a["answer"]


def test_every_worker_follows_added_and_deleted_documents(workers: Workers) -> None:
    """(c) A document added through one worker is answered from, with a citation, by every worker once the
    rebuild is published; (d) its deletion likewise reaches every worker."""
    url, auth = workers.server.url, {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(f"{url}/api/ask", json={"question": NEW_Q}).json()["abstained"] is True

    r = httpx.post(f"{url}/api/documents", headers=auth, json={"id": NEW_ID, "text": NEW_ARTICLE})
    assert r.status_code == 202, r.text
    on_each_worker(workers, ask(NEW_Q), cites(NEW_ID, "340"), "an answer citing the added document")
    published = current_build_dir(workers.index).name
    on_each_worker(workers, lambda c: c.get("/health"), lambda r: r.json()["index_build"] == published,
                   "the published build", timeout=30)  # fmt: skip

    assert httpx.delete(f"{url}/api/documents/{NEW_ID}", headers=auth).status_code == 202
    on_each_worker(workers, lambda c: c.get(f"/api/documents/{NEW_ID}"), lambda r: r.status_code == 404,
                   "the deleted document gone")  # fmt: skip
    on_each_worker(workers, ask(NEW_Q), lambda r: r.status_code == 200 and all(
        c["doc_id"] != NEW_ID for c in r.json()["citations"]), "no answer from the deleted document")  # fmt: skip


def test_http_limits_hold_with_workers(workers: Workers) -> None:
    """The same granian limits as with one process: an oversized header block is refused with 431."""
    for _ in range(4):  # fresh connections, so most likely both workers
        with socket.create_connection(("127.0.0.1", workers.server.port), timeout=10) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 431"), "an oversized header must be refused"


# -- the setting and its errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cmd", "status", "error"),
    [([QA, "serve", "--workers", "2"], 2, "qa: error: no index at"), ([*SERVE], 1, "error: no index at")],
)
def test_workers_start_only_over_a_usable_index(tmp_path, cmd: list[str], status: int, error: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(HF_HUB_OFFLINE="1", QA_AUTO_BUILD="false", QA_INDEX_DIR=str(tmp_path / "none"), QA_WORKERS="2")
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == status, r.stderr
    assert error in r.stderr and "Starting 2 workers" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_workers_setting_is_checked(capsys) -> None:
    assert Settings.from_env(env={}).workers == 1
    assert Settings.from_env(env={"QA_WORKERS": "3"}).workers == 3
    for raw in ("0", "-2"):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            Settings.from_env(env={"QA_WORKERS": raw})
    for raw in ("two", "1.5"):
        with pytest.raises(ValueError, match="QA_WORKERS must be an integer"):
            Settings.from_env(env={"QA_WORKERS": raw})
    from qa.cli import main

    assert main(["serve", "--workers", "0"]) == 2
    assert "workers must be a positive integer" in capsys.readouterr().err
