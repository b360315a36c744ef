"""Serving: `qa serve` (build or refresh the index with a progress display, then serve it) and
`python -m server.run` (serve at once, loading the engine in the background: /health says 503 until ready).

Both run the app in granian (HTTP/1.1 only), chosen by measurement over uvicorn (httptools or h11) and
hypercorn because it alone enforces, before the app sees a request (README "Limits and security"):
  - a limit on the request line + headers (QA_MAX_HEADER_BYTES: its HTTP/1 buffer; beyond it 431),
  - a limit on the number of headers (100, fixed; beyond it 431),
  - a deadline for receiving the headers (QA_HEADER_TIMEOUT_S; slowloris connections are closed).
Measured on this code (one 50 MB header; 1,000 and 10,000 headers; 300 connections trickling a header line a
second): uvicorn+httptools accepted all of it (+104 MB of memory for the 50 MB header) and held all 300
connections; uvicorn+h11 refused only a header that arrived in pieces over 16 KB; hypercorn refused the
50 MB header and cut the trickles but accepted 1,000 headers and a 20 KB one. None of them has a body read
deadline: the app adds that itself (server/hardening.py, QA_BODY_TIMEOUT_S, 408).
HTTP/2 is off: its header limits are separate (16 MB by default) and nothing here needs it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from typing import Any

from qa.engine import Engine
from qa.settings import Settings


def granian_server(app: Any, settings: Settings, access_log: bool = True) -> Any:
    """An in-process granian server for `app` with the settings' limits (granian.server.embed: the app and
    its already-loaded engine stay in this process, as with uvicorn.run)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LOGGING_CONFIG
    from granian.server.embed import Server

    log_config = {**LOGGING_CONFIG, "loggers": dict(LOGGING_CONFIG["loggers"])}
    # The app's own log ("server": engine loading, unexpected errors) next to granian's.
    log_config["loggers"]["server"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
    return Server(
        app,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http1,
        websockets=False,
        backlog=1024,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(settings.header_timeout_s * 1000)),
            max_buffer_size=settings.max_header_bytes,
        ),
        log_access=access_log,
        log_dictconfig=log_config,
    )


def run_server(app: Any, settings: Settings, access_log: bool = True) -> None:
    """Serve `app` until SIGINT or SIGTERM, then shut down gracefully (lifespan shutdown included)."""
    server = granian_server(app, settings, access_log)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.signal_handler_interrupt)
        await server.serve()

    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # Windows
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main())


def serve(settings: Settings) -> None:
    """Load the engine first (so index problems show before the port opens), then serve it."""
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
    run_server(create_app(settings, engine), settings)


def main() -> None:
    """`python -m server.run`: serve on QA_HOST:QA_PORT now; the engine loads in the background."""
    from server.app import create_app

    settings = Settings.from_env()
    run_server(create_app(settings), settings)


if __name__ == "__main__":
    main()
