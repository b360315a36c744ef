"""The Engine a server process shares: loaded once (in the background when not given), then swapped for a new
one, between requests, whenever a new index build is published (by this server, a shell or another replica).

A request takes `holder.require()` once and finishes on that engine even if a swap happens meanwhile; the
old engine's build stays leased (index/leases.py) until its last request lets go of it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from index.leases import BuildLease
from index.store import IndexLoadError, current_build_dir, load_index
from qa.engine import Engine
from qa.settings import Settings
from server.errors import ApiError, hide_paths

log = logging.getLogger("server")
RETRY_AFTER_S = 5
# One torch thread per query once serving. A query is one short sentence, so a second intra-op thread
# saves a few ms when the machine is idle, but when any other work holds a core (another request's Python
# side, the load generator, another process) its thread barriers stall: measured on 2 cores, 15 ms became
# ~490 ms per query. One thread stays ~15-25 ms and leaves the other core to the GIL-bound rest.
SERVING_TORCH_THREADS = 1


def tune_for_serving() -> None:
    """Process-wide torch settings for answering (after any index build, which does use every core)."""
    import torch

    torch.set_num_threads(SERVING_TORCH_THREADS)


class EngineHolder:
    """Holds the engine and its loading status: loading -> ready, or loading -> error."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self.status = "ready" if engine is not None else "loading"
        self.detail: str | None = None
        self.load_seconds: float | None = None  # set when loaded here; unknown for a given engine
        self._thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self._swap_lock = threading.Lock()  # one swap at a time (the watcher, or a rebuild that just published)
        self._failed_build: str | None = None  # a published build that would not load: not retried until replaced
        self._failed_current: Path | None = None  # the build CURRENT named when a first load began (if it fails)
        self.swaps = 0
        if engine is not None:
            self._lease(engine)

    def start(self) -> None:
        """Ready the engine: tune a given one now, or load one in a daemon thread so the server answers
        /health (503) while the model and index load."""
        if self._engine is not None:
            tune_for_serving()
            self._start_watcher()
            return
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._load, name="engine-loader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _start_watcher(self) -> None:
        if self._watcher is None and self.settings.reload_interval_s > 0:
            self._watcher = threading.Thread(target=self._watch, name="index-watcher", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.settings.reload_interval_s):
            try:
                if self._engine is None:
                    self._retry_load()
                else:
                    self.refresh()
            except Exception:  # the watcher must outlive any surprise; the served engine stays as it is
                log.exception("checking for a new index build failed")

    def _retry_load(self) -> None:
        """After a failed first load: load again once a build is published that the failed attempt did not see
        (`qa index build` from a shell, another replica), not on every tick (a load takes the models too)."""
        if self.status != "error":
            return
        build = self._published()
        if build is not None and build != self._failed_current:
            log.info("index build %s published: loading the engine again", build.name)
            self.status, self.detail = "loading", None
            self._load()

    def _published(self) -> Path | None:
        """The build CURRENT names; None when there is none yet, or it is mid-publication or damaged."""
        try:
            return current_build_dir(self.settings.index_dir)
        except (IndexLoadError, OSError, UnicodeDecodeError):
            return None

    def refresh(self) -> bool:
        """Swap to the published build if it is not the one in use. True when it swapped."""
        with self._swap_lock:
            engine = self._engine
            if engine is None:
                return False
            index_dir = self.settings.index_dir
            build = self._published()
            if build is None:
                return False  # mid-publication or damaged: keep serving what we have
            if build.name in (engine.index.build_dir.name, self._failed_build):
                return False
            lease = BuildLease(build)
            try:
                index = load_index(index_dir, expect_model_id=engine.embedder.model_id,
                                   expect_dimension=engine.embedder.dimension)  # fmt: skip
                if index.build_dir.name != build.name:  # replaced again while loading: lease what was loaded
                    lease.release()
                    lease = BuildLease(index.build_dir)
                new = engine.with_index(index)
            except Exception as exc:  # damaged, or any surprise: let the build go, and do not retry it each tick
                lease.release()
                self._failed_build = build.name
                log.warning("new index build %s not loaded, still serving %s: %s: %s", build.name,
                            engine.index.build_dir.name, type(exc).__name__, exc,
                            exc_info=not isinstance(exc, IndexLoadError | OSError))  # fmt: skip
                return False
            self._lease(new, lease)
            self._engine = new  # one reference assignment: a request sees the old engine or the new one
            self.swaps += 1
            log.info("serving index build %s (%d documents), was %s", index.build_dir.name,
                     len(index.documents), engine.index.build_dir.name)  # fmt: skip
            return True

    @staticmethod
    def _lease(engine: Engine, lease: BuildLease | None = None) -> None:
        """Hold the engine's build until the engine itself is gone (its last request finished)."""
        lease = lease or BuildLease(Path(engine.index.build_dir))
        weakref.finalize(engine, lease.release)

    def _load(self) -> None:
        t0 = time.perf_counter()
        self._failed_current = self._published()  # None (no build yet): the first one published is worth a retry
        try:
            engine = Engine.load(self.settings)
        except Exception as exc:  # any failure must surface on /health, not kill the thread silently
            log.exception("loading the engine failed")
            self.detail = f"{type(exc).__name__}: {exc}"
            self.status = "error"
            self._start_watcher()  # it loads again when a new build is published
            return
        self.load_seconds = round(time.perf_counter() - t0, 2)
        tune_for_serving()
        self._lease(engine)
        self._engine = engine  # set before the status flips, so "ready" always has an engine
        self.status = "ready"
        self._start_watcher()
        idx = engine.index
        log.info(
            "engine ready in %.1f s: %d documents, %d chunks",
            self.load_seconds,
            len(idx.documents),
            len(idx.chunks),
        )

    @property
    def engine(self) -> Engine | None:
        return self._engine

    def require(self) -> Engine:
        """The engine, or a 503 saying why there is none yet."""
        if self._engine is not None:
            return self._engine
        if self.status == "error":
            raise ApiError(503, f"the index failed to load: {self.detail}", code="engine_error")
        raise ApiError(
            503,
            "the model and index are still loading; try again in a few seconds",
            code="loading",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    def health(self) -> tuple[int, dict[str, Any]]:
        engine = self._engine
        if engine is None:
            if self.status == "error":
                return 503, {"status": "error", "detail": hide_paths(self.detail or "")}  # paths stay in the log
            return 503, {"status": "loading"}
        idx = engine.index
        return 200, {
            "status": "ready",
            "documents": len(idx.documents),
            "chunks": len(idx.chunks),
            "sentences": len(idx.sentences),
            "model": engine.embedder.model_id,
            "index_build": idx.manifest.get("build_id"),
            "index_type": idx.manifest.get("index_type"),
            "reader": engine.reader.name,
            # the trained reader's folder, which QA_CORPUS_STYLE picks unless QA_READER_MODEL names one
            "reader_model": engine.settings.reader_folder.name if engine.settings.reader == "trained" else None,
            # what computes; the embedding falls back to torch (with a warning) where its ONNX export cannot be made
            "reader_runtime": engine.reader.runtime,
            "embedding_runtime": engine.embedder.runtime,
            "abstain_threshold": engine.threshold,
            "corpus_style": engine.settings.corpus_style,  # which calibrated threshold serves (QA_CORPUS_STYLE)
            "load_seconds": self.load_seconds,
            "pid": os.getpid(),  # tells the workers behind one port apart (QA_WORKERS)
        }
