"""The ASGI application: `create_app(settings, engine=None)`, and `app` for `uvicorn server.app:app`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router

from qa.engine import Engine
from qa.settings import Settings
from server import api, documents_api, openai_compat
from server.errors import exception_handler
from server.hardening import add_security_headers, hardening_middleware
from server.openapi import render_plugins
from server.rebuilds import Rebuilder
from server.state import EngineHolder

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Engine calls running at once. Questions arriving together are embedded in one model call (the engine's
# QueryBatcher), so enough threads must be in flight for batches to form; beyond that they would only
# contend for the GIL, and further requests queue in this FIFO limiter.
ASK_THREADS = 16
# The page talks only to this server; the policy makes any other request (CDN, injected markup) fail.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@get("/", include_in_schema=False, sync_to_thread=False)
def index_page() -> Response[bytes]:
    return Response((STATIC_DIR / "index.html").read_bytes(), media_type="text/html", headers=PAGE_HEADERS)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Litestar:
    """The app over `engine`, or over an engine loaded in a background thread at startup when none is given
    (until it is ready, /health and the API answer 503)."""
    settings = settings or Settings.from_env()
    holder = EngineHolder(settings, engine)
    rebuilder = Rebuilder(settings, holder)

    async def on_startup(app: Litestar) -> None:
        app.state.ask_limiter = anyio.CapacityLimiter(ASK_THREADS)  # needs the running event loop
        holder.start()

    async def on_shutdown(app: Litestar) -> None:
        holder.stop()

    return Litestar(
        route_handlers=[
            index_page,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
            api.ask,
            api.list_documents,
            api.get_document,
            api.health,
            openai_compat.chat_completions,
            openai_compat.list_models,
            openai_compat.get_model,
            *documents_api.routes(settings),
        ],
        state=State({"holder": holder, "rebuilder": rebuilder, "settings": settings, "started_at": int(time.time())}),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        exception_handlers={Exception: exception_handler},
        request_max_body_size=settings.max_body_bytes,
        # server/hardening.py: Host check (DNS rebinding), security headers on every response, body deadline.
        before_send=[add_security_headers],
        middleware=[DefineMiddleware(hardening_middleware, settings=settings)],
        openapi_config=OpenAPIConfig(
            title="corpus-qa",
            version="0.1.0",
            description="Extractive question answering over a folder of articles, with exact citations.",
            render_plugins=render_plugins(),  # no CDN-loaded pages (server/openapi.py)
        ),
    )


def __getattr__(name: str) -> Any:
    # `app` is built on first access, so importing create_app (tests, server.run) reads no environment.
    if name == "app":
        global app
        app = create_app(Settings.from_env())
        return app
    raise AttributeError(name)
