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

QA_WORKERS > 1 runs that many worker processes on the one port (granian's own supervisor, the kernel
spreading connections over them), each with its own engine and index watcher, once the index is built;
1 keeps everything in this process.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from functools import partial
from typing import Any

from qa.settings import Settings

# Seconds a worker gets to finish its requests when the server stops (or the worker is replaced); then it
# is killed, so that a stuck one cannot hold up a shutdown.
WORKER_STOP_TIMEOUT_S = 30


def granian_options(settings: Settings, access_log: bool = True) -> dict[str, Any]:
    """What both modes (one process, several workers) serve with: the address, HTTP/1 only and its limits."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LOGGING_CONFIG

    log_config = {**LOGGING_CONFIG, "loggers": dict(LOGGING_CONFIG["loggers"])}
    # The app's own log ("server": engine loading, unexpected errors) next to granian's.
    log_config["loggers"]["server"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
    return {
        "address": settings.host,
        "port": settings.port,
        "interface": Interfaces.ASGI,
        "http": HTTPModes.http1,
        "websockets": False,
        "backlog": 1024,
        "http1_settings": HTTP1Settings(
            header_read_timeout=max(1, round(settings.header_timeout_s * 1000)),
            max_buffer_size=settings.max_header_bytes,
        ),
        "log_access": access_log,
        "log_dictconfig": log_config,
    }


def granian_server(app: Any, settings: Settings, access_log: bool = True) -> Any:
    """An in-process granian server for `app` with the settings' limits (granian.server.embed: the app and
    its already-loaded engine stay in this process, as with uvicorn.run)."""
    from granian.server.embed import Server

    return Server(app, **granian_options(settings, access_log))


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


def worker_app(settings: Settings) -> Any:
    """The app of one worker process (granian calls this in each): its engine loads in the background there
    and its own watcher follows new index builds."""
    from server.app import create_app

    return create_app(settings)


def run_workers(settings: Settings, access_log: bool = True) -> None:
    """Serve with `settings.workers` processes on the one port until SIGINT or SIGTERM. A worker that dies
    is replaced (one that dies again within seconds of its restart stops the server)."""
    import multiprocessing

    from granian.server.mp import MPServer

    if settings.reload_interval_s == 0:  # each worker learns of new builds only through its own watcher
        print("warning: QA_RELOAD_INTERVAL_S is 0: an index build that one worker publishes (after a documents "
              "change) reaches no other worker", file=sys.stderr)  # fmt: skip
    # Workers start as fresh interpreters, not forks of this one: a fork of a process that has run torch,
    # OpenMP or tokenizer threads (`qa serve` builds the index first) can deadlock in the child.
    multiprocessing.set_start_method("spawn", force=True)
    server = MPServer(
        "server.app:create_app",  # only names the processes: each worker's app comes from worker_app
        workers=settings.workers,
        respawn_failed_workers=True,
        workers_kill_timeout=WORKER_STOP_TIMEOUT_S,
        **granian_options(settings, access_log),
    )
    server.serve(target_loader=partial(worker_app, settings), wrap_loader=False)


def _print_addresses(settings: Settings) -> None:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{settings.port}"
    print(f"Chat page: {url}/   API docs: {url}/schema   OpenAI base_url: {url}/v1", file=sys.stderr)


def prepare_index(settings: Settings) -> None:
    """Build or refresh the index with a progress display, as Engine.load does before `qa serve` serves,
    then check it is usable (so an absent or broken index fails before the port opens)."""
    from index.store import check_index
    from qa.engine import load_embedder, refresh_for

    try:
        if settings.auto_build:
            print(f"Building or refreshing the index at {settings.index_dir} ...", file=sys.stderr)
            refresh_for(settings, load_embedder(settings), progress=True)
        check_index(settings.index_dir)
    except (ValueError, OSError, RuntimeError) as exc:
        raise RuntimeError(str(exc)) from None  # what `qa` reports, in an exception that pickles back whole


def serve_workers(settings: Settings) -> None:
    """Several workers (`qa serve` or `python -m server.run`): build or refresh the index once, then start
    the workers, which only load it (each its own copy). Were each worker to refresh it as it starts (or
    is restarted), each would publish a whole new build of the same corpus."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # The build runs in a process of its own: the model and torch it loads would otherwise stay in this
    # supervisor's memory (measured: 0.57 GB instead of 0.04 GB) for as long as it serves.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as build:
        build.submit(prepare_index, settings).result()
    print(f"Starting {settings.workers} workers; each loads the model and the index (/health: 503 until then).",
          file=sys.stderr)  # fmt: skip
    _print_addresses(settings)
    run_workers(settings.with_(auto_build=False))


def serve(settings: Settings) -> None:
    """Load the engine first (so index problems show before the port opens), then serve it."""
    if settings.workers > 1:
        serve_workers(settings)
        return
    from qa.engine import Engine
    from server.app import create_app

    t0 = time.perf_counter()
    print(f"Loading the model and the index at {settings.index_dir} ...", file=sys.stderr)
    engine = Engine.load(settings, progress=True)
    idx = engine.index
    print(
        f"Ready in {time.perf_counter() - t0:.1f} s: {len(idx.documents)} documents, {len(idx.chunks)} chunks.",
        file=sys.stderr,
    )
    _print_addresses(settings)
    run_server(create_app(settings, engine), settings)


def main() -> None:
    """`python -m server.run`: serve on QA_HOST:QA_PORT now; the engine loads in the background. With
    QA_WORKERS > 1 the index is built or refreshed first (serve_workers), then each worker loads it in the
    background."""
    settings = Settings.from_env()
    if settings.workers > 1:
        try:
            serve_workers(settings)
        except RuntimeError as exc:  # the index could not be built or is unusable: one line, no traceback
            sys.exit(f"error: {exc}")
        return
    from server.app import create_app

    run_server(create_app(settings), settings)


if __name__ == "__main__":
    main()
