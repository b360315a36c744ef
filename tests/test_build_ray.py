"""`qa index build --engine ray`: the Ray Data map step builds exactly the index a local build does.

One Ray, started for this module (2 CPUs, no dashboard) and shut down after it; the CLI test's subprocess
joins it through RAY_ADDRESS instead of starting its own. Ray startup and each build's actors (each loads the
model) are what take the time here, so there are two Ray builds in all.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("ray.data", reason="the ray extra is not installed (pip install -e '.[ray]')")

from index.build import BuildBusyError, build_index  # noqa: E402
from index.build_ray import build_index_ray, list_corpus, pool_size, ray_session, worker_error  # noqa: E402
from index.documents import read_corpus  # noqa: E402
from index.embedding import Embedder  # noqa: E402
from index.store import IndexData, load_index  # noqa: E402
from qa.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
CHANGED = "003_f2bd36a69d885f5a"
REMOVED = "001_1d16e7dd443baf6a"
ADDED = "005_harbour"
ADDED_TEXT = """---
title: Harbour Reopens After Storm
date: 2024-05-06
---
The harbour reopened on Monday after a week of repairs.

Fishing boats returned to the docks by noon, and the ferry service resumed in the afternoon.
"""


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    with ray_session(num_cpus=2) as ray:
        yield ray.get_runtime_context().gcs_address


def _assert_same_index(got: IndexData, want: IndexData) -> None:
    """Same documents, chunks, sentences (ids, offsets, text), manifest counts; vectors within float rounding."""
    assert got.documents == want.documents
    assert [(c.chunk_id, c.doc_id, c.start, c.end, c.text) for c in got.chunks] == [
        (c.chunk_id, c.doc_id, c.start, c.end, c.text) for c in want.chunks
    ]
    assert [(s.sentence_id, s.doc_id, s.chunk_id, s.start, s.end, s.text) for s in got.sentences] == [
        (s.sentence_id, s.doc_id, s.chunk_id, s.start, s.end, s.text) for s in want.sentences
    ]
    assert got.chunk_sentence_ids == want.chunk_sentence_ids
    for key in ("counts", "documents", "chunking", "model_id", "dimension", "max_model_tokens", "index_type"):
        assert got.manifest[key] == want.manifest[key], key
    assert got.chunk_vectors.dtype == want.chunk_vectors.dtype == np.float32
    np.testing.assert_allclose(got.chunk_vectors, want.chunk_vectors, atol=1e-5, rtol=0)
    np.testing.assert_allclose(got.sentence_vectors, want.sentence_vectors, atol=1e-5, rtol=0)
    assert got.faiss_index.ntotal == want.faiss_index.ntotal == len(want.chunks)


def _mixed_corpus(root: Path) -> Path:
    """The seed articles plus what read_corpus reports: an unknown type, a hidden file, a bad .jsonl line and
    a duplicate id (the later file's record is dropped)."""
    corpus = root / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    (corpus / "notes.csv").write_text("a,b\n")
    (corpus / ".draft.txt").write_text("Not indexed.\n")
    sub = corpus / "wire"
    sub.mkdir()
    bridge = {"id": "wire-1", "title": "Bridge opens", "text": "A new bridge opened on Wednesday."}
    (sub / "a.jsonl").write_text(json.dumps(bridge) + "\n{not json\n")
    (sub / "b.jsonl").write_text(json.dumps({**bridge, "text": "Another story."}) + "\n")
    return corpus


def test_ray_build_matches_the_local_build(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder, ray_address: str
) -> None:
    corpus = _mixed_corpus(tmp_path)
    # The local reference: the seed index refreshed with the extra files (it embeds only those).
    local_dir = shutil.copytree(seed_index_dir, tmp_path / "local")
    local = build_index(corpus, local_dir, embedder, progress=False)

    calls = embedder.calls
    phases: list[tuple[str, int, int]] = []
    # Two 1-CPU actors (the default here is one of 2 CPUs): results come back from both, in any order.
    report = build_index_ray(
        corpus, tmp_path / "ray", embedder, progress=False, on_progress=lambda *a: phases.append(a),
        actors=2, cpus_per_actor=1,
    )  # fmt: skip
    assert embedder.calls == calls  # the driver embedded nothing: the actors did

    _assert_same_index(load_index(tmp_path / "ray"), load_index(local_dir))
    assert report.skipped == local.skipped == ["notes.csv"]
    assert report.errors == local.errors == read_corpus(corpus).errors
    assert any("duplicate document id 'wire-1'" in e for e in report.errors)
    assert any("invalid JSON" in e for e in report.errors)
    assert (report.documents, report.chunks, report.sentences) == (local.documents, local.chunks, local.sentences)
    assert report.embedded_texts == report.chunks + report.sentences  # a fresh folder: everything embedded
    assert report.added_documents == sorted(d.doc_id for d in read_corpus(corpus).documents)
    files = list_corpus(corpus)[0]
    assert ("embedding", len(files), len(files)) in phases and phases[-1][0] == "published"


def test_cli_engine_ray_refreshes_incrementally(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder, ray_address: str
) -> None:
    """`qa index build --engine ray` on the cluster at RAY_ADDRESS: reuses the unchanged documents' vectors,
    embeds the rest, and publishes what a local refresh publishes."""
    corpus = shutil.copytree(SEED_CORPUS, tmp_path / "corpus")
    path = corpus / f"{CHANGED}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nThe brand has not commented on the new partnership.\n")
    (corpus / f"{REMOVED}.txt").unlink()
    (corpus / f"{ADDED}.md").write_text(ADDED_TEXT)
    out = shutil.copytree(seed_index_dir, tmp_path / "ray")
    local_dir = shutil.copytree(seed_index_dir, tmp_path / "local")

    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(HF_HUB_OFFLINE="1", RAY_ADDRESS=ray_address)
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "index", "build", "--engine", "ray", "--corpus", str(corpus)]
        + ["--out", str(out), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"^documents: 5 \(1 added, 1 changed, 1 removed, 3 reused\)$", result.stdout, re.M), result.stdout

    local = build_index(corpus, local_dir, embedder, progress=False)
    assert f"embedded now: {local.embedded_texts}\n" in result.stdout
    _assert_same_index(load_index(out), load_index(local_dir))


def test_ray_build_takes_the_same_lock(tmp_path: Path, embedder: Embedder) -> None:
    """Busy index folder: refused before any Ray work, as a local build is."""
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    fd = os.open(index_dir / ".lock", os.O_RDONLY | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(BuildBusyError):
            build_index_ray(SEED_CORPUS, index_dir, embedder, progress=False)
    finally:
        os.close(fd)


@pytest.mark.parametrize(("env", "want"), [({}, "local"), ({"QA_BUILD_ENGINE": "ray"}, "ray")])
def test_build_engine_setting(env: dict[str, Any], want: str) -> None:
    assert Settings.from_env(env=env).build_engine == want
    with pytest.raises(ValueError, match="build_engine must be one of local, ray"):
        Settings.from_env(env={"QA_BUILD_ENGINE": "spark"})


def test_a_worker_failure_is_one_line_naming_its_cause() -> None:
    """What Ray hands the driver when an actor's constructor raises (its traceback as text, colour codes)."""
    wrapped = RuntimeError(
        "The actor died because of an error raised in its creation task, \x1b[36mray::MapWorker(MapBatches("
        '_PlanAndEmbed)).__init__()\x1b[39m (pid=1, ip=10.0.0.1)\n  File "/work/index/embedding.py", line 39, '
        "in __init__\n    raise FileNotFoundError(...)\nFileNotFoundError: embedding model folder not found: /x\n"
    )
    assert worker_error(Exception("wrapper")) == "wrapper"
    outer = Exception("")
    outer.__cause__ = wrapped
    assert worker_error(outer) == "FileNotFoundError: embedding model folder not found: /x"


@pytest.mark.parametrize(
    ("nodes", "actors", "cpus", "want"),
    [([2], None, None, (1, 2)), ([2], 2, None, (2, 1)), ([16, 16], None, None, (8, 4)), ([2], None, 1, (2, 1))],
)
def test_actor_pool_size(nodes: list[int], actors: int | None, cpus: int | None, want: tuple[int, int]) -> None:
    assert pool_size(nodes, actors, cpus) == want
