"""`qa index build` and `qa index stats`, run as the user runs them: subprocesses of the real command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.store import load_index

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"


def _qa(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        # QA_* variables from the caller's shell must not redirect the command elsewhere.
        env={**{k: v for k, v in os.environ.items() if not k.startswith("QA_")}, "HF_HUB_OFFLINE": "1"},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """One real `qa index build` of a small corpus with an unknown file and a bad .jsonl line."""
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("000_898400add2b9d695.txt", "002_ebe90d7494c22bd0.txt"):
        shutil.copyfile(SEED_CORPUS / name, corpus / name)
    (corpus / "notes.csv").write_text("a,b\n")
    (corpus / "feed.jsonl").write_text(
        json.dumps({"id": "wire-1", "title": "Bridge opens", "text": "A new bridge opened on Wednesday."})
        + "\n{not json\n"
    )
    out = root / "index"
    result = _qa("index", "build", "--corpus", str(corpus), "--out", str(out), "--no-progress")
    return corpus, out, result


@pytest.mark.slow
def test_index_build_prints_the_summary(built: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    _, out, result = built
    assert result.returncode == 0, result.stderr
    data = load_index(out)
    n_chunks, n_sentences = len(data.chunks), len(data.sentences)
    text = result.stdout
    assert re.search(r"^documents: 3 \(3 added, 0 changed, 0 removed, 0 reused\)$", text, re.M), text
    assert re.search(
        rf"^chunks: {n_chunks}  sentences: {n_sentences}  embedded now: {n_chunks + n_sentences}$", text, re.M
    )
    m = re.search(r"^seconds: (\d+\.\d\d) \(embedding (\d+\.\d\d)\)  vectors/s: (\d+)$", text, re.M)
    assert m, text
    seconds, vectors_per_second = float(m.group(1)), int(m.group(3))
    assert seconds > 0 and vectors_per_second == pytest.approx((n_chunks + n_sentences) / seconds, abs=2)
    assert f"index: {data.build_dir}" in text
    assert "skipped (unsupported type): notes.csv" in text
    assert "error: feed.jsonl:2: invalid JSON" in text
    assert set(data.documents) == {"000_898400add2b9d695", "002_ebe90d7494c22bd0", "wire-1"}


@pytest.mark.slow
def test_index_stats_prints_the_manifest_summary(built: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    corpus, out, _ = built
    data = load_index(out)
    result = _qa("index", "stats", "--index-dir", str(out))
    assert result.returncode == 0, result.stderr
    lines = dict(re.findall(r"^\s*(\w+): (.*)$", result.stdout, re.M))
    assert lines["build"] == data.manifest["build_id"] == data.build_dir.name
    assert lines["model"] == data.manifest["model_id"]
    assert lines["dimension"] == "384" and lines["index_type"] == "flat"
    assert int(lines["documents"]) == 3
    assert int(lines["chunks"]) == len(data.chunks) and int(lines["sentences"]) == len(data.sentences)
    assert lines["corpus_dir"] == str(corpus.resolve())

    as_json = json.loads(_qa("index", "stats", "--index-dir", str(out), "--json").stdout)
    assert (as_json["documents"], as_json["chunks"], as_json["sentences"]) == (3, len(data.chunks), len(data.sentences))
    assert as_json["bytes"] == sum(f["bytes"] for f in data.manifest["files"].values())


def test_index_stats_without_an_index_is_a_clear_error(tmp_path: Path) -> None:
    result = _qa("index", "stats", "--index-dir", str(tmp_path / "none"))
    assert result.returncode == 2
    assert f"qa: error: no index at {tmp_path / 'none'}: build one with `qa index build" in result.stderr
    assert "Traceback" not in result.stderr


def test_index_stats_on_a_corrupt_index_is_a_clear_error(tmp_path: Path, seed_index_dir: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    (index_dir / "CURRENT").write_text("missing-build\n")
    result = _qa("index", "stats", "--index-dir", str(index_dir))
    assert result.returncode == 2
    assert "CURRENT points to missing build 'missing-build'; rebuild it" in result.stderr
    assert "Traceback" not in result.stderr
