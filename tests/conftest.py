"""Shared fixtures: the real model loaded once per session, a real index of the seed corpus built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from servers import ServerProcess, start_server

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


class LiveServer(ServerProcess):
    """A `python -m server.run` subprocess (granian) on a free loopback port, with what /health said while starting."""

    def __init__(self, process: ServerProcess, index_dir: Path) -> None:
        super().__init__(process.proc, process.url, process.log_path)
        self.index_dir = index_dir
        self.startup_observations: list[tuple[str, int, dict]] = []  # (what, status, body) while loading


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    import httpx

    work = tmp_path_factory.mktemp("live-server")
    index_dir = work / "index"  # empty: the server builds it in the background, as a fresh deployment does
    env = {"QA_INDEX_DIR": str(index_dir), "QA_CORPUS_DIR": str(SEED_CORPUS)}
    with LiveServer(start_server(env, work / "server.log"), index_dir) as server:

        def observe(r: httpx.Response) -> None:
            if server.startup_observations:
                return
            # First answer while loading: record what /health and /api/ask say, then /health again.
            server.startup_observations.append(("health", r.status_code, r.json()))
            a = httpx.post(f"{server.url}/api/ask", json={"question": "Who is Demna?"}, timeout=30)
            server.startup_observations.append(("ask", a.status_code, a.json()))
            h = httpx.get(f"{server.url}/health", timeout=5)
            server.startup_observations.append(("health", h.status_code, h.json()))

        server.wait_health(timeout=240, on_waiting=observe)
        yield server
