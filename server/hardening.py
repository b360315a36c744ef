"""What the app adds to the HTTP server's own limits (server/run.py): allowed Host names (DNS rebinding),
security headers on every response, a deadline for reading a request body, and a header count/size check.

The HTTP server (granian) enforces the header size (QA_MAX_HEADER_BYTES), the header count (100) and the
time to receive the headers (QA_HEADER_TIMEOUT_S) before the app sees a request. It has no body read
timeout, so `hardening_middleware` gives every request QA_BODY_TIMEOUT_S from the moment the app gets it to
receive its whole body, then answers 408 and closes the connection. Its header checks repeat the server's,
so the limits still hold when the app runs under another ASGI server.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import anyio
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from qa.settings import Settings
from server.errors import ApiError

MAX_HEADERS = 100  # granian's (hyper's) fixed limit; more get 431 from the server itself
BODY_RECEIVED = "qa.body_received"  # scope key: the whole request body has been read
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
# Every response: nothing may load it in a frame, sniff its type, or follow it with a Referer. The chat page
# (server/app.py PAGE_HEADERS) sets its own, wider, Content-Security-Policy; JSON and the schema page need none.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The host names served (None: any): QA_ALLOWED_HOSTS, or localhost, 127.0.0.1, [::1] and QA_HOST.

    A request naming another host gets 400: a page on another site whose name was rebound to this machine's
    address (DNS rebinding) sends its own name. Ports are not compared (`name:port` entries are allowed and
    mean `name`): the app cannot know the port its server was given (`uvicorn server.app:app --port N`).
    Litestar's AllowedHostsConfig was not used for this reason: it compares the whole header, port included,
    so "127.0.0.1:8000" does not match "127.0.0.1"; and its 400 is not in this API's error shape.
    """
    names = [n.strip() for n in settings.allowed_hosts.split(",") if n.strip()]
    if not names:
        names = [*LOOPBACK_NAMES, _bracketed(settings.host.strip("[]"))]
    if "*" in names:
        return None
    return frozenset(_host_name(n) for n in names) - {"", "0.0.0.0", "[::]"}  # wildcard binds name no host


def _bracketed(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def _host_name(host: str) -> str:
    """A Host header (or an allowed-hosts entry) without its port, lower-cased: "[::1]:8000" -> "[::1]"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":", 1)[0].rstrip(".")


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    name = _host_name(host)
    return name in allowed or any(a.startswith("*.") and name.endswith(a[1:]) for a in allowed)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook: SECURITY_HEADERS on every response, unless the handler set its own; and
    `Connection: close` when the request's body was not read (a 413, 415, 404...): granian then closes the
    connection, and without the header a client would reuse it and find it closed ("Server disconnected")."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if not scope.get(BODY_RECEIVED) and _announces_body(scope):
            headers["Connection"] = "close"


def _announces_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def hardening_middleware(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The Host check (400), header count/size checks (431) and the body read deadline (408), per request."""
    body_timeout = settings.body_timeout_s
    max_header_bytes = settings.max_header_bytes
    allowed = allowed_hosts(settings)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = scope["headers"]
        if allowed is not None:
            host = next((v.decode("latin-1") for k, v in headers if k == b"host"), "")
            if not host_allowed(host, allowed):
                raise ApiError(
                    400,
                    f"the Host header {host!r} is not a name this server answers to (QA_ALLOWED_HOSTS)",
                    param="Host",
                    code="host_not_allowed",
                )
        if len(headers) > MAX_HEADERS:
            raise ApiError(431, f"too many request headers: {len(headers)}; the limit is {MAX_HEADERS}")
        size = sum(len(k) + len(v) + 4 for k, v in headers)
        if size > max_header_bytes:
            raise ApiError(
                431, f"request headers are too large; the limit is {max_header_bytes} bytes (QA_MAX_HEADER_BYTES)"
            )
        deadline = anyio.current_time() + body_timeout
        body_done = False

        async def receive_by_deadline() -> Any:
            nonlocal body_done
            if body_done:  # later receives wait for a disconnect (streamed replies): no deadline
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                if message["type"] == "http.request" and not message.get("more_body", False):
                    scope[BODY_RECEIVED] = True  # type: ignore[literal-required]
                    body_done = True
                elif message["type"] != "http.request":  # http.disconnect
                    body_done = True
                return message
            raise ApiError(
                408,
                f"the request body did not arrive within {body_timeout:g} s (QA_BODY_TIMEOUT_S)",
                code="body_timeout",
                headers={"Connection": "close"},
            )

        await app(scope, receive_by_deadline, send)

    return middleware
