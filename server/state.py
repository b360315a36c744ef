"""The one Engine a server process shares: loaded once (in the background when not given), then read-only."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from qa.engine import Engine
from qa.settings import Settings
from server.errors import ApiError

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

    def start(self) -> None:
        """Ready the engine: tune a given one now, or load one in a daemon thread so the server answers
        /health (503) while the model and index load."""
        if self._engine is not None:
            tune_for_serving()
            return
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._load, name="engine-loader", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        t0 = time.perf_counter()
        try:
            engine = Engine.load(self.settings)
        except Exception as exc:  # any failure must surface on /health, not kill the thread silently
            log.exception("loading the engine failed")
            self.detail = f"{type(exc).__name__}: {exc}"
            self.status = "error"
            return
        self.load_seconds = round(time.perf_counter() - t0, 2)
        tune_for_serving()
        self._engine = engine  # set before the status flips, so "ready" always has an engine
        self.status = "ready"
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
                return 503, {"status": "error", "detail": self.detail}
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
            "abstain_threshold": engine.threshold,
            "load_seconds": self.load_seconds,
        }
