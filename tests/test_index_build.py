"""Building the index: incremental refresh, crash safety, corruption checks, approximate FAISS indexes.

Every test works on a copy of the session's seed index (conftest `seed_index_dir`), so an "unchanged"
document is reused rather than embedded again and the tests stay fast.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import msgspec
import numpy as np
import pytest

from index.build import build_index
from index.embedding import Embedder
from index.store import IndexData, IndexLoadError, current_build_dir, load_index

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


def _copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _rows(data: IndexData, doc_id: str) -> tuple[list[int], list[int]]:
    chunks = [c.chunk_id for c in data.chunks if c.doc_id == doc_id]
    sentences = [s.sentence_id for s in data.sentences if s.doc_id == doc_id]
    return chunks, sentences


def _texts_of(data: IndexData, doc_ids: set[str]) -> int:
    return sum(c.doc_id in doc_ids for c in data.chunks) + sum(s.doc_id in doc_ids for s in data.sentences)


# --- incremental rebuild ------------------------------------------------------------------------


def test_incremental_rebuild_embeds_only_what_changed(tmp_path: Path, seed_index_dir: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    index_dir = _copy_index(seed_index_dir, tmp_path / "index")
    before = load_index(index_dir)

    # Same articles from another folder, one file touched: nothing is embedded.
    os.utime(corpus / f"{CHANGED}.txt")
    count, calls = embedder.texts_encoded, embedder.calls
    report = build_index(corpus, index_dir, embedder, progress=False)
    assert (embedder.texts_encoded, embedder.calls) == (count, calls)
    assert report.embedded_texts == 0 and report.reused_documents == 5
    assert report.added_documents == report.changed_documents == report.removed_documents == []

    # Modify one, add one, remove one.
    path = corpus / f"{CHANGED}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nThe brand has not commented on the new partnership.\n")
    (corpus / f"{ADDED}.md").write_text(ADDED_TEXT)
    (corpus / f"{REMOVED}.txt").unlink()
    count, calls = embedder.texts_encoded, embedder.calls
    report = build_index(corpus, index_dir, embedder, progress=False)
    after = load_index(index_dir)

    embedded = embedder.texts_encoded - count
    assert embedded == _texts_of(after, {CHANGED, ADDED}) == report.embedded_texts
    assert embedded < _texts_of(after, set(after.documents)) // 2  # far from a full rebuild
    assert embedder.calls - calls == 1  # one batched encode call
    assert report.changed_documents == [CHANGED]
    assert report.added_documents == [ADDED]
    assert report.removed_documents == [REMOVED]
    assert report.reused_documents == 3

    # The removed article is gone everywhere; the new sentence is in.
    assert REMOVED not in after.documents
    assert all(c.doc_id != REMOVED for c in after.chunks) and all(s.doc_id != REMOVED for s in after.sentences)
    assert after.faiss_index.ntotal == len(after.chunks) == len(after.chunk_vectors)
    assert "The brand has not commented on the new partnership." in {s.text for s in after.sentences}
    assert after.documents[ADDED].title == "Harbour Reopens After Storm"

    # Reused vectors are the old ones, byte for byte, and still belong to their own chunks.
    for doc_id in set(after.documents) - {CHANGED, ADDED}:
        old_c, old_s = _rows(before, doc_id)
        new_c, new_s = _rows(after, doc_id)
        assert np.array_equal(before.chunk_vectors[old_c], after.chunk_vectors[new_c])
        assert np.array_equal(before.sentence_vectors[old_s], after.sentence_vectors[new_s])
    for doc_id in ("000_898400add2b9d695", CHANGED):  # one reused, one fresh: vectors match their text
        rows, srows = _rows(after, doc_id)
        fresh = embedder.encode([after.chunks[i].text for i in rows] + [after.sentences[i].text for i in srows[:5]])
        stored = np.vstack([after.chunk_vectors[rows], after.sentence_vectors[srows[:5]]])
        assert np.min(np.sum(fresh * stored, axis=1)) > 0.999

    # And once more with no change: nothing embedded.
    count = embedder.texts_encoded
    report = build_index(corpus, index_dir, embedder, progress=False)
    assert embedder.texts_encoded == count and report.embedded_texts == 0 and report.reused_documents == 5


def test_vectors_are_embedded_again_where_a_new_cleaner_moves_the_spans(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same text, same numbers of chunks and sentences, other spans (a cleaner that keeps other lines, as after
    an upgrade): the old vectors belong to other text and must not be reused."""
    import index.documents
    from index.cleaning import clean

    index_dir = _copy_index(seed_index_dir, tmp_path / "index")
    before = load_index(index_dir)

    def cleaner_of_another_version(text: str) -> list:  # the real cleaner's, one paragraph a char shorter
        kept = clean(text)
        if text == before.documents[CHANGED].text:  # not the first paragraph: the title (hashed) comes from it
            i = len(kept) // 2
            kept[i] = msgspec.structs.replace(kept[i], start=kept[i].start + 1)
        return kept

    monkeypatch.setattr(index.documents, "clean", cleaner_of_another_version)
    report = build_index(SEED_CORPUS, index_dir, embedder, progress=False)
    after = load_index(index_dir)
    assert len(_rows(after, CHANGED)[0]) == len(_rows(before, CHANGED)[0])  # same counts: only the spans moved
    assert len(_rows(after, CHANGED)[1]) == len(_rows(before, CHANGED)[1])
    assert report.changed_documents == [CHANGED] and report.reused_documents == 4
    assert report.embedded_texts == _texts_of(after, {CHANGED})
    rows, _ = _rows(after, CHANGED)
    fresh = embedder.encode([after.chunks[i].text for i in rows])
    assert np.min(np.sum(fresh * after.chunk_vectors[rows], axis=1)) > 0.999


def test_a_second_build_of_the_same_index_is_refused_while_one_runs(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder
) -> None:
    index_dir = _copy_index(seed_index_dir, tmp_path / "index")
    live = current_build_dir(index_dir)
    with (index_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running build holds it
        with pytest.raises(RuntimeError, match="another build is writing"):
            build_index(SEED_CORPUS, index_dir, embedder, progress=False)
    assert current_build_dir(index_dir) == live
    assert [p.name for p in (index_dir / "builds").iterdir()] == [live.name]  # the refused build left nothing


# --- a killed build -----------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_build_leaves_the_old_index_loadable(tmp_path: Path, seed_index_dir: Path, embedder: Embedder) -> None:
    index_dir = _copy_index(seed_index_dir, tmp_path / "index")
    old = load_index(index_dir)
    big = tmp_path / "big"
    big.mkdir()
    for i in range(60):  # 300 articles, ~12,000 texts: minutes of embedding, so the kill lands mid-way
        for p in SEED_CORPUS.glob("*.txt"):
            shutil.copyfile(p, big / f"copy{i:02d}_{p.name}")

    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "index", "build", "--corpus", str(big), "--out", str(index_dir)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        try:
            deadline = time.monotonic() + 180
            # build_index prints this line just before the encode call (then the progress bar).
            while not re.search(r"embedding \d+ chunks and sentences", log.read_text(errors="replace")):
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "build never started embedding"
                time.sleep(0.2)
            time.sleep(1.5)  # well inside the encode call
            assert proc.poll() is None, "build finished before it could be killed"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    data = load_index(index_dir)  # still the old build, complete and verified
    assert data.build_dir == old.build_dir
    assert set(data.documents) == set(old.documents)
    assert len(data.chunks) == len(old.chunks)

    # A build killed while writing leaves a .tmp-* folder: readers ignore it, the next build removes it.
    stale = index_dir / "builds" / ".tmp-20240101T000000-dead00"
    stale.mkdir(exist_ok=True)
    (stale / "store.sqlite").write_bytes(b"SQLite format 3\x00 half written")
    assert load_index(index_dir).build_dir == old.build_dir

    count = embedder.texts_encoded
    report = build_index(SEED_CORPUS, index_dir, embedder, progress=False)  # lock released by the kill
    assert embedder.texts_encoded == count  # the killed build's partial work left nothing behind
    assert [p.name for p in (index_dir / "builds").iterdir()] == [report.build_dir.name]
    assert load_index(index_dir).build_dir == report.build_dir


# --- corrupt indexes ----------------------------------------------------------------------------


def _truncate_faiss(build: Path) -> None:
    path = build / "chunks.faiss"
    path.write_bytes(path.read_bytes()[:-100])


def _alter_sqlite_byte(build: Path) -> None:
    path = build / "store.sqlite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum can tell
    path.write_bytes(bytes(data))


def _remove_manifest(build: Path) -> None:
    (build / "manifest.json").unlink()


def _garble_manifest(build: Path) -> None:
    (build / "manifest.json").write_text('{"format_version": 1, "files": ')


def _current_points_nowhere(build: Path) -> None:
    (build.parent.parent / "CURRENT").write_text("20200101T000000-gone00\n")


def _no_current(build: Path) -> None:
    (build.parent.parent / "CURRENT").unlink()


def _missing_vectors(build: Path) -> None:
    (build / "sentences.npy").unlink()


def _manifest_wrong_dimension(build: Path) -> None:
    # Vectors and manifest disagree on the dimension (e.g. files from another model copied in).
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["dimension"] = 768
    (build / "manifest.json").write_text(json.dumps(manifest))


def _old_format(build: Path) -> None:
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["format_version"] = 0
    (build / "manifest.json").write_text(json.dumps(manifest))


CORRUPTIONS: list[tuple[Callable[[Path], None], dict, str]] = [
    (_truncate_faiss, {}, r"chunks\.faiss is truncated or altered .*rebuild the index"),
    (_alter_sqlite_byte, {}, r"store\.sqlite is corrupt \(checksum mismatch\); rebuild the index"),
    (_remove_manifest, {}, r"has no manifest\.json; rebuild the index"),
    (_garble_manifest, {}, r"manifest .* is corrupt .*rebuild the index"),
    (_current_points_nowhere, {}, r"CURRENT points to missing build '20200101T000000-gone00'; rebuild"),
    (_no_current, {}, r"no index at .*: build one with `qa index build"),
    (_missing_vectors, {}, r"sentences\.npy is missing; rebuild the index"),
    (_manifest_wrong_dimension, {}, r"wrong dimension \(manifest says 768\); rebuild"),
    (_old_format, {}, r"format version 0, this program reads 1; rebuild the index"),
    (lambda build: None, {"expect_model_id": "other"}, r"built with model .* configured model is 'other'; rebuild"),
    (lambda build: None, {"expect_dimension": 768}, r"has dimension 384, the model gives 768; rebuild"),
]


@pytest.mark.parametrize(
    ("corrupt", "kwargs", "message"),
    CORRUPTIONS,
    ids=[
        "truncated-faiss", "altered-sqlite-byte", "missing-manifest", "garbled-manifest", "current-nowhere",
        "no-current", "missing-vectors", "manifest-wrong-dimension", "old-format", "wrong-model", "wrong-dimension",
    ],
)  # fmt: skip
def test_corrupt_index_gives_a_clear_error(
    tmp_path: Path,
    seed_index_dir: Path,
    corrupt: Callable[[Path], None],
    kwargs: dict,
    message: str,
) -> None:
    index_dir = _copy_index(seed_index_dir, tmp_path / "index")
    corrupt(current_build_dir(index_dir))
    with pytest.raises(IndexLoadError, match=message):
        load_index(index_dir, **kwargs)


def test_a_build_over_a_corrupt_index_replaces_it(tmp_path: Path, seed_index_dir: Path, embedder: Embedder) -> None:
    index_dir = _copy_index(seed_index_dir, tmp_path / "index")
    _alter_sqlite_byte(current_build_dir(index_dir))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(SEED_CORPUS / "000_898400add2b9d695.txt", corpus / "000_898400add2b9d695.txt")
    count = embedder.texts_encoded
    report = build_index(corpus, index_dir, embedder, progress=False)
    data = load_index(index_dir)
    # Nothing could be trusted, so everything was embedded afresh.
    assert embedder.texts_encoded - count == len(data.chunks) + len(data.sentences) == report.embedded_texts
    assert list(data.documents) == ["000_898400add2b9d695"]


# --- approximate FAISS indexes ------------------------------------------------------------------

QUERIES = [
    "Who is Balenciaga's new brand ambassador?",
    "Which podcast did Kardashian talk to about the backlash?",
    "How much was the lawsuit against the set designer?",
    "What did Kanye West say about Balenciaga?",
    "What did the teddy bear campaign show?",
]


@pytest.mark.parametrize(("kind", "cls"), [("hnsw", faiss.IndexHNSWFlat), ("ivf", faiss.IndexIVFFlat)])
def test_approximate_index_finds_the_same_top_chunk_as_flat(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder, kind: str, cls: type
) -> None:
    flat = load_index(seed_index_dir)
    assert isinstance(faiss.downcast_index(flat.faiss_index), faiss.IndexFlatIP)
    index_dir = _copy_index(seed_index_dir, tmp_path / "index")
    count = embedder.texts_encoded
    build_index(SEED_CORPUS, index_dir, embedder, index_type=kind, progress=False)
    assert embedder.texts_encoded == count  # a new index type reuses the vectors
    approx = load_index(index_dir)
    assert approx.manifest["index_type"] == kind
    assert isinstance(faiss.downcast_index(approx.faiss_index), cls)
    queries = embedder.encode(QUERIES)
    _, flat_top = flat.faiss_index.search(queries, 1)
    _, approx_top = approx.faiss_index.search(queries, 1)
    assert [flat.chunks[i].text for i in flat_top[:, 0]] == [approx.chunks[i].text for i in approx_top[:, 0]]


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_embedder_gives_the_vectors_sentence_transformers_gives(embedder: Embedder, runtime: str) -> None:
    """The embedding runs the model as an ONNX Runtime graph (the default) or a TorchScript graph behind
    sentence-transformers' own tokenizer and pooling: the vectors must be what `SentenceTransformer.encode`
    returns, for a lone question and for a padded batch of texts of very different lengths."""
    ours_model = embedder if runtime == "onnx" else Embedder(runtime="torch")
    assert ours_model.runtime == {"onnx": "onnx", "torch": "torchscript"}[runtime]
    texts = ["Who owns Balenciaga?", "  spaces around  ", "Kering " * 300, "x"]
    for batch in (texts[:1], texts):
        ours = ours_model.encode(batch)
        theirs = embedder.model.encode(batch, normalize_embeddings=True, convert_to_numpy=True)
        assert ours.dtype == np.float32 and ours.shape == (len(batch), embedder.dimension)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_embedder_without_its_fast_graphs_gives_the_same_vectors(embedder: Embedder, monkeypatch) -> None:
    import index.embedding

    monkeypatch.setattr(index.embedding, "trace_encoder", lambda model: None)
    eager = Embedder(runtime="torch")
    assert eager.runtime == "eager"
    texts = ["Who owns Balenciaga?", "Kering " * 300]
    np.testing.assert_allclose(eager.encode(texts), embedder.encode(texts), atol=1e-5)


def test_the_onnx_embedding_is_exported_once_and_an_unwritable_cache_falls_back_to_torch(
    embedder: Embedder, tmp_path, monkeypatch, capfd, caplog: pytest.LogCaptureFixture
) -> None:
    import index.embedding

    cache = tmp_path / "cache"
    monkeypatch.setattr(index.embedding, "CACHE_DIR", cache)
    first = Embedder()
    assert first.runtime == "onnx" and "exporting the embedding model" in capfd.readouterr().err
    files = list(cache.glob("*/model.onnx"))
    assert len(files) == 1 and list(cache.iterdir()) == [files[0].parent]  # published whole, no temporary left
    again = Embedder()
    assert again.runtime == "onnx" and "exporting" not in capfd.readouterr().err  # read from the cache
    texts = ["Who owns Balenciaga?", "Kering " * 300]
    np.testing.assert_allclose(again.encode(texts), embedder.encode(texts), atol=1e-5)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setattr(index.embedding, "CACHE_DIR", blocked)
    with caplog.at_level("WARNING"):
        fallback = Embedder()
    assert fallback.runtime == "torchscript" and "torch is used, the vectors are the same" in caplog.text
    np.testing.assert_allclose(fallback.encode(texts), embedder.encode(texts), atol=1e-5)


def test_unknown_embedding_runtime_is_a_clear_error() -> None:
    from qa.settings import Settings

    with pytest.raises(ValueError, match="embed_runtime must be one of onnx, torch, not 'tvm'"):
        Settings.from_env(env={"QA_EMBED_RUNTIME": "tvm"})
    with pytest.raises(ValueError, match="embedding runtime must be one of onnx, torch"):
        Embedder(runtime="tvm")


def test_a_model_that_cannot_be_traced_runs_eagerly_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    import torch

    from index.tracing import trace_encoder

    class NotBert(torch.nn.Module):  # takes no attention mask: tracing it with one fails
        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            return input_ids

    assert trace_encoder(NotBert()) is None
    assert "running the model eagerly" in caplog.text


def test_the_default_retrieval_model_is_the_shipped_fine_tune_and_its_id_follows_its_weights(
    tmp_path: Path, embedder: Embedder
) -> None:
    """models/embedder (all-MiniLM-L6-v2 fine-tuned for this corpus's retrieval) serves unless another folder is
    named; its fp16 weights compute in fp32; an index records the model by its weights too, so a fine-tune saved
    over the last in the same folder is never served from an index the old one embedded."""
    from index.embedding import SHIPPED_MODEL, packaged_model_path

    assert embedder.model_path == str(SHIPPED_MODEL)
    assert str(next(embedder.model.parameters()).dtype) == "torch.float32"
    base = Embedder(packaged_model_path())
    q = "Who designed the teddy bear bags?"
    assert float(embedder.encode_query(q) @ base.encode_query(q)) < 0.999  # a different model, not a copy
    copy = tmp_path / "embedder"
    shutil.copytree(SHIPPED_MODEL, copy)
    first = Embedder(str(copy)).model_id
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of one weight: the same config, another model
    weights.write_bytes(bytes(data))
    assert Embedder(str(copy)).model_id != first
