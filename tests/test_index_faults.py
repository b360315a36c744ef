"""Faults on the index folder: a killed build, corrupt or truncated files, a read-only folder, a full disk.

Each must end in a served valid index or a clear one-line error (exit code 2 from `qa`), never a traceback,
never a lost document, and the next build must repair what can be repaired. The tests copy the session's
seed index (conftest `seed_index_dir`) or a tiny two-article index built once here, so builds reuse vectors
or embed a few sentences only.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import index.store as store
from index.build import build_index, refresh_index
from index.embedding import Embedder
from index.store import (
    FILES,
    IndexLoadError,
    IndexReadOnlyError,
    IndexWriteError,
    current_build_dir,
    load_index,
)

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
INDEX_FILES = (*FILES, "manifest.json", "CURRENT")


def _read_only_method() -> str | None:
    """How a test can make a folder this process cannot write: "chmod" where permissions apply; "immutable"
    for root, whose CAP_DAC_OVERRIDE ignores permissions but not the immutable attribute (`chattr +i`, where
    the file system has it: ext4 here); None where neither works (the tests that need it skip)."""
    probe = Path(tempfile.mkdtemp(prefix="qa-permission-probe-"))
    try:
        probe.chmod(0o555)
        try:
            (probe / "x").touch()
        except PermissionError:
            return "chmod"
        probe.chmod(0o755)
        (probe / "x").unlink()
        if not _chattr(probe, "+i"):
            return None
        try:
            (probe / "y").touch()
        except PermissionError:
            return "immutable"
        return None
    finally:
        _chattr(probe, "-i")
        probe.chmod(0o755)
        shutil.rmtree(probe, ignore_errors=True)


def _chattr(path: Path, flag: str) -> bool:
    """`chattr FLAG path`; whether it worked (not on every file system, nor without CAP_LINUX_IMMUTABLE)."""
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


READ_ONLY_METHOD = _read_only_method()
needs_permissions = pytest.mark.skipif(
    READ_ONLY_METHOD is None,
    reason="no read-only folder here: file permissions are not enforced (root) and chattr +i is not available",
)


TINY = {
    "harbour.md": "---\ntitle: Harbour Reopens After Storm\ndate: 2024-05-06\n---\n"
    "The harbour reopened on Monday after a week of repairs.\n\n"
    "Fishing boats returned to the docks by noon, and the ferry service resumed in the afternoon.\n",
    "bridge.md": "---\ntitle: Bridge Opens\ndate: 2024-05-08\n---\n"
    "A new bridge over the river opened on Wednesday.\n\nThe mayor said it cost 40 million euros.\n",
}


# --- helpers ------------------------------------------------------------------------------------


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _target(index_dir: Path, name: str) -> Path:
    return index_dir / "CURRENT" if name == "CURRENT" else current_build_dir(index_dir) / name


def _assert_one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message, message


def _env() -> dict[str, str]:
    # QA_* variables from the caller's shell must not redirect the command elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["HF_HUB_OFFLINE"] = "1"
    return env


def _qa(*args: str, timeout: float = 300, **popen: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        **popen,  # type: ignore[arg-type]
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("qa: error:")]


def _state(index_dir: Path) -> tuple[str, list[str]]:
    """CURRENT's bytes and every entry of builds/: what a failed build must leave as it found it."""
    return (index_dir / "CURRENT").read_text(), sorted(p.name for p in (index_dir / "builds").iterdir())


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = tmp_path_factory.mktemp("tiny-corpus")
    for name, text in TINY.items():
        (corpus / name).write_text(text)
    return corpus


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory, tiny_corpus: Path, embedder: Embedder) -> Path:
    out = tmp_path_factory.mktemp("tiny-index") / "index"
    build_index(tiny_corpus, out, embedder, progress=False)
    return out


@pytest.fixture
def writable_again() -> Iterator[list[Path]]:
    """Folders a test made read-only, made writable again so that pytest can remove them."""
    paths: list[Path] = []
    yield paths
    for p in paths:
        if READ_ONLY_METHOD == "immutable":
            _chattr(p, "-i")
        else:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)


def _make_read_only(folder: Path, undo: list[Path]) -> None:
    for p in [folder, *(d for d in folder.rglob("*") if d.is_dir())]:
        undo.append(p)
        if READ_ONLY_METHOD == "immutable":
            assert _chattr(p, "+i"), p
        else:
            p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


# --- 1. a CURRENT that cannot be read ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff", r"CURRENT holds unreadable bytes, not a build name; rebuild it"),
        (b"\xfe\xed\xfa\xce\x00\x01", r"CURRENT holds unreadable bytes"),
        (b"", r"CURRENT points to missing build ''"),
        (b"../../etc\n", r"CURRENT points to missing build '\.\./\.\./etc'"),
        (b".tmp-20240101T000000-dead00\n", r"CURRENT points to missing build '\.tmp-"),
        (b"x" * 5000, r"CURRENT points to missing build 'xxx"),
    ],
    ids=["ff-byte", "binary", "empty", "path", "tmp-build", "too-long"],
)
def test_an_unreadable_current_is_a_clean_load_error(
    tmp_path: Path, seed_index_dir: Path, content: bytes, message: str
) -> None:
    index_dir = _copy(seed_index_dir, tmp_path / "index")
    (index_dir / "CURRENT").write_bytes(content)
    with pytest.raises(IndexLoadError, match=message) as caught:
        load_index(index_dir)
    _assert_one_line(str(caught.value))


def test_a_current_that_is_a_folder_is_a_clean_error_and_a_build_replaces_it(
    tmp_path: Path, tiny_index: Path, tiny_corpus: Path, embedder: Embedder
) -> None:
    index_dir = _copy(tiny_index, tmp_path / "index")
    (index_dir / "CURRENT").unlink()
    (index_dir / "CURRENT").mkdir()
    with pytest.raises(IndexLoadError, match=r"CURRENT pointer cannot be read") as caught:
        load_index(index_dir)
    _assert_one_line(str(caught.value))
    report = build_index(tiny_corpus, index_dir, embedder, progress=False)
    assert load_index(index_dir).build_dir == report.build_dir


# --- 2. a manifest of the wrong shape -------------------------------------------------------------


def _reshape(manifest: dict, path: tuple[str, ...], value: object) -> dict:
    *parents, last = path
    node = manifest
    for key in parents:
        node = node[key]
    node[last] = value
    return manifest


WRONG_SHAPES: list[tuple[str, Callable[[dict], object], str]] = [
    ("list", lambda m: [1, 2], r"is corrupt \(a JSON list, not an object\)"),
    ("string", lambda m: "x", r"is corrupt \(a JSON str, not an object\)"),
    ("null", lambda m: None, r"is corrupt \(a JSON NoneType, not an object\)"),
    ("files-only", lambda m: {"files": 3}, r"is corrupt \(no 'format_version' field\)"),
    ("files-a-number", lambda m: _reshape(m, ("files",), 3), r"'files' is not an object giving bytes and sha256"),
    ("file-entry-a-list", lambda m: _reshape(m, ("files", "chunks.npy"), [1]), r"'files' is not an object giving"),
    ("bytes-a-string", lambda m: _reshape(m, ("files", "store.sqlite", "bytes"), "53248"), r"'files' is not an object"),
    ("chunking-a-string", lambda m: _reshape(m, ("chunking",), "160"), r"'chunking' is not an object with integer"),
    ("counts-missing", lambda m: {k: v for k, v in m.items() if k != "counts"}, r"no 'counts' field"),
    ("dimension-a-string", lambda m: _reshape(m, ("dimension",), "384"), r"'dimension' is not a positive integer"),
    ("version-a-list", lambda m: _reshape(m, ("format_version",), [1]), r"format version 'list', this program reads 1"),
    ("counts-disagree", lambda m: _reshape(m, ("counts", "chunks"), 1), r"the manifest's counts differ from the store"),
]


def _write_manifest(index_dir: Path, make: Callable[[dict], object]) -> None:
    path = current_build_dir(index_dir) / "manifest.json"
    path.write_text(json.dumps(make(json.loads(path.read_text()))))


@pytest.mark.parametrize(("make", "message"), [w[1:] for w in WRONG_SHAPES], ids=[w[0] for w in WRONG_SHAPES])
def test_a_manifest_of_the_wrong_shape_is_a_clean_load_error(
    tmp_path: Path, seed_index_dir: Path, make: Callable[[dict], object], message: str
) -> None:
    index_dir = _copy(seed_index_dir, tmp_path / "index")
    _write_manifest(index_dir, make)
    with pytest.raises(IndexLoadError, match=message) as caught:
        load_index(index_dir)
    _assert_one_line(str(caught.value))
    assert str(caught.value).endswith("rebuild the index") or str(caught.value).endswith("rebuild it")


@pytest.mark.parametrize(
    "make", [w[1] for w in WRONG_SHAPES[:5]], ids=[w[0] for w in WRONG_SHAPES[:5]]
)  # fmt: skip
def test_a_build_over_a_manifest_of_the_wrong_shape_builds_afresh(
    tmp_path: Path,
    tiny_index: Path,
    tiny_corpus: Path,
    embedder: Embedder,
    make: Callable[[dict], object],
    caplog: pytest.LogCaptureFixture,
) -> None:
    index_dir = _copy(tiny_index, tmp_path / "index")
    _write_manifest(index_dir, make)
    count = embedder.texts_encoded
    with caplog.at_level(logging.WARNING, logger="index.build"):
        report = build_index(tiny_corpus, index_dir, embedder, progress=False)
    data = load_index(index_dir)
    assert report.reused_documents == 0 and report.embedded_texts == embedder.texts_encoded - count > 0
    assert set(data.documents) == {"harbour", "bridge"}
    assert [p.name for p in (index_dir / "builds").iterdir()] == [report.build_dir.name]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "is not reused (index manifest" in warnings[0], warnings
    _assert_one_line(warnings[0])


@pytest.mark.parametrize(
    ("corrupt", "warning"),
    [
        (lambda index: (index / "CURRENT").write_bytes(b"\xff"), "CURRENT holds unreadable bytes"),
        (lambda index: (current_build_dir(index) / "manifest.json").write_text("[1,2]"), "a JSON list, not an object"),
    ],
    ids=["garbage-current", "manifest-a-list"],
)
def test_qa_index_build_recovers_from_an_unreadable_previous_build(
    tmp_path: Path, tiny_index: Path, tiny_corpus: Path, corrupt: Callable[[Path], object], warning: str
) -> None:
    """What the tester ran: `printf '\\xff' > IDX/CURRENT` (or a JSON list for a manifest), then a build."""
    index_dir = _copy(tiny_index, tmp_path / "index")
    corrupt(index_dir)
    result = _qa("index", "build", "--corpus", str(tiny_corpus), "--out", str(index_dir), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    notes = [line for line in result.stderr.splitlines() if "is not reused" in line]
    assert len(notes) == 1 and warning in notes[0] and "building it afresh" in notes[0], result.stderr
    assert re.search(r"^documents: 2 \(2 added, 0 changed, 0 removed, 0 reused\)$", result.stdout, re.M)
    data = load_index(index_dir)
    assert set(data.documents) == {"harbour", "bridge"}
    assert (index_dir / "CURRENT").read_text() == data.build_dir.name + "\n"


# --- corrupting or truncating every index file in turn --------------------------------------------


def _flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0xFF
    return bytes(b)


CORRUPTIONS: dict[str, Callable[[bytes], bytes | None]] = {
    "truncated-to-0": lambda data: b"",
    "truncated-to-half": lambda data: data[: len(data) // 2],
    "last-byte-cut": lambda data: data[:-1],
    "byte-flipped-first": lambda data: _flip(data, 0),
    "byte-flipped-middle": lambda data: _flip(data, len(data) // 2),
    "garbage-appended": lambda data: data + b"\x00\xffgarbage",
    "replaced-by-ff": lambda data: b"\xff",
    "deleted": lambda data: None,
}


def _corrupt(path: Path, how: str) -> None:
    new = CORRUPTIONS[how](path.read_bytes())
    if new is None:
        path.unlink()
    else:
        path.write_bytes(new)


@pytest.mark.parametrize("how", list(CORRUPTIONS))
@pytest.mark.parametrize("name", INDEX_FILES)
def test_every_corruption_of_every_index_file_is_a_clean_load_error(
    tmp_path: Path, seed_index_dir: Path, name: str, how: str
) -> None:
    index_dir = _copy(seed_index_dir, tmp_path / "index")
    expected = load_index(index_dir)
    _corrupt(_target(index_dir, name), how)
    if name == "CURRENT" and how == "last-byte-cut":  # only the trailing newline went: still the same build
        assert load_index(index_dir).build_dir == expected.build_dir
        return
    with pytest.raises(IndexLoadError) as caught:
        load_index(index_dir)
    message = str(caught.value)
    _assert_one_line(message)
    assert re.search(r"rebuild (it|the index)$|build one with `qa index build --out ", message), message
    # Without checksums (verify=False) an altered file may go unnoticed, but it never escapes as another error.
    _copy(seed_index_dir, tmp_path / "again")
    _corrupt(_target(tmp_path / "again", name), how)
    try:
        load_index(tmp_path / "again", verify=False)
    except IndexLoadError as exc:
        _assert_one_line(str(exc))


def test_store_rows_altered_in_place_are_caught_without_checksums(tmp_path: Path, seed_index_dir: Path) -> None:
    """verify=False skips the checksums; rows that no longer fit together still fail cleanly (was a KeyError)."""
    import sqlite3

    index_dir = _copy(seed_index_dir, tmp_path / "index")
    path = current_build_dir(index_dir) / "store.sqlite"
    size = path.stat().st_size
    db = sqlite3.connect(path)
    db.execute("UPDATE chunks SET doc_id = '000%898400add2b9d695' WHERE chunk_id = 3")  # a flipped byte
    db.commit()
    db.close()
    assert path.stat().st_size == size
    with pytest.raises(IndexLoadError, match=r"is inconsistent \(chunk 3 does not lie in a stored document\)"):
        load_index(index_dir, verify=False)


@pytest.mark.parametrize("name", INDEX_FILES)
def test_a_build_repairs_a_corrupted_index_file(
    tmp_path: Path, tiny_index: Path, tiny_corpus: Path, embedder: Embedder, name: str
) -> None:
    index_dir = _copy(tiny_index, tmp_path / "index")
    how = "replaced-by-ff" if name in ("CURRENT", "manifest.json") else "byte-flipped-middle"
    _corrupt(_target(index_dir, name), how)
    with pytest.raises(IndexLoadError):
        load_index(index_dir)
    report = build_index(tiny_corpus, index_dir, embedder, progress=False)
    data = load_index(index_dir)
    assert data.build_dir == report.build_dir and set(data.documents) == {"harbour", "bridge"}
    assert [p.name for p in (index_dir / "builds").iterdir()] == [report.build_dir.name]


# --- a build killed with SIGKILL mid-way ----------------------------------------------------------

# The real `qa index build`, held just after it has written part of its temporary build folder (so the
# kill lands mid-write every time, not by luck of timing).
HELD_BUILD = """
import sys, time
from pathlib import Path
import index.store

marker = Path(sys.argv[1])
real = index.store.make_faiss_index

def held(*args, **kwargs):
    marker.write_text("writing")
    time.sleep(600)
    return real(*args, **kwargs)

index.store.make_faiss_index = held
from qa.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_build_killed_while_writing_leaves_the_previous_index_serving(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder
) -> None:
    from qa.engine import Engine
    from qa.settings import Settings

    index_dir = _copy(seed_index_dir, tmp_path / "index")
    before = _state(index_dir)
    old = load_index(index_dir)
    marker = tmp_path / "writing"
    log = tmp_path / "stderr.txt"
    args = ["index", "build", "--corpus", str(SEED_CORPUS), "--out", str(index_dir), "--no-progress"]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", HELD_BUILD, str(marker), *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=_env(),
        )
        try:
            deadline = time.monotonic() + 240
            while not marker.exists():
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "the build never started writing"
                time.sleep(0.1)
            tmp_builds = list((index_dir / "builds").glob(".tmp-*"))
            assert len(tmp_builds) == 1 and (tmp_builds[0] / "store.sqlite").is_file()
            assert (tmp_builds[0] / "chunks.npy").is_file() and not (tmp_builds[0] / "manifest.json").exists()
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert (index_dir / "CURRENT").read_text() == before[0]

    # The previous build is still live, complete, and answers.
    data = load_index(index_dir)
    assert data.build_dir == old.build_dir and set(data.documents) == set(old.documents)
    settings = Settings.from_env(env={}, corpus_dir=SEED_CORPUS, index_dir=index_dir, reader="rules", auto_build=False)
    answer = Engine(settings, embedder, data).ask("Who is Balenciaga's new brand ambassador?")
    assert answer.related and answer.related[0].doc_id in old.documents

    # The next build takes the lock the kill released, removes the leftover folder and publishes.
    report = build_index(SEED_CORPUS, index_dir, embedder, progress=False)
    assert report.embedded_texts == 0 and report.reused_documents == len(old.documents)
    assert [p.name for p in (index_dir / "builds").iterdir()] == [report.build_dir.name]
    assert load_index(index_dir).build_dir == report.build_dir


# --- a read-only index folder ---------------------------------------------------------------------


@needs_permissions
def test_a_build_into_a_read_only_folder_is_a_clean_error(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder, writable_again: list[Path]
) -> None:
    index_dir = _copy(seed_index_dir, tmp_path / "index")
    before = _state(index_dir)
    _make_read_only(index_dir, writable_again)
    with pytest.raises(IndexReadOnlyError, match=r"^index folder .* is read-only: no new build can be written there$"):
        build_index(SEED_CORPUS, index_dir, embedder, progress=False)
    assert _state(index_dir) == before
    assert load_index(index_dir).build_dir.name == before[1][0]


@needs_permissions
def test_a_server_start_on_a_read_only_folder_serves_the_index_there(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder, writable_again: list[Path], caplog
) -> None:
    index_dir = _copy(seed_index_dir, tmp_path / "index")
    before = _state(index_dir)
    _make_read_only(index_dir, writable_again)
    with caplog.at_level(logging.WARNING, logger="index.build"):
        assert refresh_index(SEED_CORPUS, index_dir, embedder, progress=False, wait=True) is None
    [line] = [r.getMessage() for r in caplog.records if r.name == "index.build"]
    assert re.fullmatch(r"warning: index folder .* is read-only: .*so the index is not refreshed: .*", line), line
    assert _state(index_dir) == before

    empty = tmp_path / "empty"
    empty.mkdir()
    _make_read_only(empty, writable_again)
    with pytest.raises(IndexLoadError, match=r"is read-only: .*and it holds no usable index \(no index at ") as caught:
        refresh_index(SEED_CORPUS, empty, embedder, progress=False)
    _assert_one_line(str(caught.value))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_permissions
def test_qa_serve_serves_a_read_only_index_without_refreshing_it(
    tmp_path: Path, seed_index_dir: Path, writable_again: list[Path]
) -> None:
    import httpx

    index_dir = _copy(seed_index_dir, tmp_path / "index")
    before = _state(index_dir)
    _make_read_only(index_dir, writable_again)
    port = _free_port()
    log = tmp_path / "serve.txt"
    env = {**_env(), "QA_READER": "rules"}
    cmd = [sys.executable, "-m", "qa.cli", "serve", "--index-dir", str(index_dir), "--corpus", str(SEED_CORPUS),
           "--port", str(port)]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        r = httpx.post(f"http://127.0.0.1:{port}/api/ask", json={"question": "Who is Demna?"}, timeout=60)
        assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text
    notes = [line for line in text.splitlines() if "read-only" in line]
    assert len(notes) == 1 and "so the index is not refreshed" in notes[0], text
    assert _state(index_dir) == before


@needs_permissions
def test_qa_serve_on_a_read_only_folder_without_an_index_is_a_clean_error(
    tmp_path: Path, seed_index_dir: Path, writable_again: list[Path]
) -> None:
    index_dir = _copy(seed_index_dir, tmp_path / "index")
    (current_build_dir(index_dir) / "chunks.npy").unlink()
    _make_read_only(index_dir, writable_again)
    result = _qa("serve", "--index-dir", str(index_dir), "--corpus", str(SEED_CORPUS), "--port", str(_free_port()))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = _error_lines(result.stderr)
    assert re.fullmatch(
        r"qa: error: index folder .* is read-only: no new build can be written there, and it holds no usable "
        r"index \(index file .*chunks\.npy is missing; rebuild the index\)",
        line,
    ), line


# --- a full disk ----------------------------------------------------------------------------------


class _FullDisk:
    """A file on a disk that fills up after `room` bytes: writes raise OSError(ENOSPC), as the kernel's do."""

    def __init__(self, f, room: int) -> None:
        self._f = f
        self._room = room

    def write(self, data) -> int:
        n = memoryview(data).nbytes
        if n > self._room:
            self._f.write(memoryview(data).cast("B")[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= n
        return self._f.write(data)

    def __getattr__(self, name: str):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self._f.close()


@pytest.mark.parametrize("full_at", [*FILES, "manifest.json.tmp", "CURRENT.tmp"])
def test_a_full_disk_during_a_build_leaves_the_previous_index_live(
    tmp_path: Path, seed_index_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch, full_at: str
) -> None:
    index_dir = _copy(seed_index_dir, tmp_path / "index")
    before = _state(index_dir)
    old = load_index(index_dir)
    real_open = store._open_new
    monkeypatch.setattr(
        store, "_open_new", lambda path: _FullDisk(real_open(path), 10) if path.name == full_at else real_open(path)
    )
    with pytest.raises(IndexWriteError) as caught:
        build_index(SEED_CORPUS, index_dir, embedder, progress=False)
    assert str(caught.value) == (
        f"no space left on device while writing the index build at {index_dir}; the previous index is still live"
    )
    assert _state(index_dir) == before  # temporary folder gone, CURRENT as it was, no CURRENT.tmp left
    assert sorted(p.name for p in index_dir.iterdir()) == [".lock", "CURRENT", "builds"]
    data = load_index(index_dir)
    assert data.build_dir == old.build_dir and set(data.documents) == set(old.documents)

    monkeypatch.undo()  # space again: the next build goes through
    report = build_index(SEED_CORPUS, index_dir, embedder, progress=False)
    assert load_index(index_dir).build_dir == report.build_dir


def test_a_full_disk_during_a_first_build_says_nothing_was_published(
    tmp_path: Path, tiny_corpus: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    real_open = store._open_new
    monkeypatch.setattr(store, "_open_new", lambda path: _FullDisk(real_open(path), 0))
    with pytest.raises(IndexWriteError) as caught:
        build_index(tiny_corpus, index_dir, embedder, progress=False)
    assert str(caught.value) == (
        f"no space left on device while writing the index build at {index_dir}; no index was published"
    )
    assert not (index_dir / "CURRENT").exists()
    assert list((index_dir / "builds").iterdir()) == []
    with pytest.raises(IndexLoadError, match="no index at"):
        load_index(index_dir)


def _file_size_limit(limit: int) -> Callable[[], None]:
    """For preexec_fn: the child may write no file past `limit` bytes, and gets EFBIG (not SIGXFSZ) when it
    tries, as a process does on a full disk; a user may lower their own limit, no root or mount needed."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return apply


def test_qa_index_build_past_the_file_size_limit_is_a_clean_error(tmp_path: Path, seed_index_dir: Path) -> None:
    index_dir = _copy(seed_index_dir, tmp_path / "index")
    before = _state(index_dir)
    old = load_index(index_dir)
    limit = max(f["bytes"] for f in old.manifest["files"].values()) // 2  # the biggest file cannot be written
    result = _qa(
        "index", "build", "--corpus", str(SEED_CORPUS), "--out", str(index_dir), "--no-progress",
        preexec_fn=_file_size_limit(limit),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert _error_lines(result.stderr) == [
        f"qa: error: file size limit reached while writing the index build at {index_dir}; "
        "the previous index is still live"
    ], result.stderr
    assert _state(index_dir) == before
    data = load_index(index_dir)
    assert data.build_dir == old.build_dir and set(data.documents) == set(old.documents)
