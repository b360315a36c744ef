"""`qa serve`: build or refresh the index with a progress display, then serve it with uvicorn."""

from __future__ import annotations

import sys
import time

from qa.engine import Engine
from qa.settings import Settings


def serve(settings: Settings) -> None:
    """Load the engine first (so index problems show before the port opens), then serve it."""
    import uvicorn

    from server.app import create_app

    t0 = time.perf_counter()
    print(f"Loading the model and the index at {settings.index_dir} ...", file=sys.stderr)
    engine = Engine.load(settings, progress=True)
    idx = engine.index
    print(
        f"Ready in {time.perf_counter() - t0:.1f} s: {len(idx.documents)} documents, {len(idx.chunks)} chunks.",
        file=sys.stderr,
    )
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{settings.port}"
    print(f"Chat page: {url}/   API docs: {url}/schema   OpenAI base_url: {url}/v1", file=sys.stderr)
    uvicorn.run(create_app(settings, engine), host=settings.host, port=settings.port, log_level="info")
