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
