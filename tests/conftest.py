"""Shared fixtures: the real model loaded once per session, a real index of the seed corpus built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
SHARED_BENCH = ROOT.parent / "shared" / "bench" / "squad2-dev-public.json"


@pytest.fixture(scope="session")
def embedder():
    from index.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory, embedder) -> Path:
    from index.build import build_index

    out = tmp_path_factory.mktemp("seed-index")
    build_index(SEED_CORPUS, out, embedder, progress=False)
    return out


@pytest.fixture(scope="session")
def settings(seed_index_dir):
    from qa.settings import Settings

    return Settings.from_env(env={}, corpus_dir=SEED_CORPUS, index_dir=seed_index_dir, auto_build=False)


@pytest.fixture(scope="session")
def engine(settings, embedder):
    from qa.engine import Engine

    return Engine.load(settings, embedder=embedder, build=False)


# -- the real HTTP server, started once per session for the server, OpenAI and browser tests -------------


class LiveServer:
    """A `python -m server.run` subprocess (granian) on a free loopback port, with what /health said while starting."""

    def __init__(self, url: str, log_path: Path, index_dir: Path) -> None:
        self.url = url
        self.log_path = log_path
        self.index_dir = index_dir
        self.startup_observations: list[tuple[str, int, dict]] = []  # (what, status, body) while loading

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = tmp_path_factory.mktemp("live-server")
    index_dir = work / "index"  # empty: the server builds it in the background, as a fresh deployment does
    log_path = work / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_INDEX_DIR=str(index_dir), QA_CORPUS_DIR=str(SEED_CORPUS), HF_HUB_OFFLINE="1")
    env.update(QA_HOST="127.0.0.1", QA_PORT=str(port))
    cmd = [sys.executable, "-m", "server.run"]  # the app under granian with its request limits, as deployed
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", log_path, index_dir)
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                r = httpx.get(f"{server.url}/health", timeout=5)
            except httpx.TransportError:
                r = None
            if r is not None and r.status_code == 200:
                break
            if r is not None and not server.startup_observations:
                # First answer while loading: record what /health and /api/ask say, then /health again.
                server.startup_observations.append(("health", r.status_code, r.json()))
                a = httpx.post(f"{server.url}/api/ask", json={"question": "Who is Demna?"}, timeout=30)
                server.startup_observations.append(("ask", a.status_code, a.json()))
                h = httpx.get(f"{server.url}/health", timeout=5)
                server.startup_observations.append(("health", h.status_code, h.json()))
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready after 240 s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
