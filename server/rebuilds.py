"""Background index rebuilds after documents change over HTTP: one at a time, changes coalesced.

A change marks the index stale and wakes the rebuild thread; changes that arrive while a build runs are
all picked up by the one build that follows it. The build is the same incremental `build_index` as
`qa index build` (only new or changed documents are embedded), and its publication is swapped in by the
holder as soon as it lands. A failed build leaves the previous index live and is reported on /api/index.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from index.build import build_index
from index.chunking import ChunkingConfig
from qa.settings import Settings
from server.state import EngineHolder

log = logging.getLogger("server")


class Rebuilder:
    def __init__(self, settings: Settings, holder: EngineHolder) -> None:
        self.settings = settings
        self.holder = holder
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: list[str] = []  # changes not yet in a build ("added doc-1", ...)
        self._building: list[str] = []
        self.state = "idle"  # idle | pending | building
        self.phase: str | None = None
        self.done = 0
        self.total = 0
        self.started_at: float | None = None
        self.last: dict[str, Any] | None = None  # the last finished build (or failure)

    def request(self, change: str) -> None:
        """Record a change to the corpus folder; a rebuild follows in the background."""
        with self._lock:
            self._pending.append(change)
            if self.state == "idle":
                self.state = "pending"
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="index-rebuild", daemon=True)
                self._thread.start()
        self._wake.set()

    def status(self) -> dict[str, Any]:
        with self._lock:
            progress = None
            if self.state == "building":
                progress = {"phase": self.phase, "done": self.done, "total": self.total,
                            "seconds": round(time.monotonic() - (self.started_at or time.monotonic()), 1)}  # fmt: skip
            return {
                "state": self.state,
                "pending_changes": list(self._pending),
                "building_changes": list(self._building),
                "progress": progress,
                "last": self.last,
            }

    def _progress(self, phase: str, done: int, total: int) -> None:
        with self._lock:
            self.phase, self.done, self.total = phase, done, total

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                if not self._pending:
                    continue
                self._building, self._pending = self._pending, []
                self.state, self.phase, self.done, self.total = "building", "starting", 0, 0
                self.started_at = time.monotonic()
            result: dict[str, Any]
            try:
                result = self._build()
            except Exception as exc:  # the previous index stays live; say why on /api/index and in the log
                log.warning("index rebuild failed: %s: %s", type(exc).__name__, exc)
                result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            with self._lock:
                result["changes"] = self._building
                result["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                self.last, self._building = result, []
                self.state = "pending" if self._pending else "idle"
                if self._pending:
                    self._wake.set()

    def _build(self) -> dict[str, Any]:
        engine = self.holder.engine
        if engine is None:
            raise RuntimeError("the index is not loaded yet")
        s = self.settings
        t0 = time.perf_counter()
        report = build_index(
            s.corpus_dir,
            s.index_dir,
            engine.embedder,  # shared with the queries; its lock lets them through between slices
            ChunkingConfig(s.chunk_tokens, s.chunk_overlap),
            s.index_type,
            progress=False,
            on_progress=self._progress,
            wait=True,
        )
        self.holder.refresh()  # serve it now rather than at the watcher's next look
        log.info("index rebuilt in %.1f s: %s", time.perf_counter() - t0, report.build_dir.name)
        return {
            "ok": True,
            "build": report.build_dir.name,
            "documents": report.documents,
            "added": report.added_documents,
            "changed": report.changed_documents,
            "removed": report.removed_documents,
            "embedded_texts": report.embedded_texts,
            "seconds": round(report.seconds, 2),
            "errors": report.errors,
        }
