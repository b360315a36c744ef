"""Every error as JSON: {"status_code", "detail"} under /api, OpenAI's {"error": {...}} shape under /v1.

One handler for all exceptions so no request ever gets an HTML page or a traceback; only truly
unexpected errors become a 500, and those are logged with their traceback on the server side.
"""

from __future__ import annotations

import logging
import re
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from qa.errors import QuestionError

log = logging.getLogger("server")
T = TypeVar("T")


class ApiError(Exception):
    """A client-facing error: HTTP status, a message naming the problem, and the offending parameter."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_BACKTICKED = re.compile(r"`([^`]+)`")


def decode_json_body(body: bytes, type_: type[T]) -> T:
    """Strictly decode a request body into `type_`; msgspec's errors become messages naming the field.

    Decoding by hand (not Litestar's `data:` injection) keeps types strict ("5" is not an int) and lets the
    message say exactly which field is wrong, including for an empty body or an unknown field.
    """
    if not body.strip():
        raise ApiError(400, "request body is empty; send a JSON object", code="empty_body")
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        match = _AT.match(str(exc))
        msg, path = (match["msg"], (match["path"] or "").lstrip(".")) if match else (str(exc), "")
        param = path or None
        if not path and ("unknown field" in msg or "missing required field" in msg):
            named = _BACKTICKED.search(msg)
            param = named.group(1) if named else None
        if "unknown field" in msg:
            code = "unknown_parameter"
        elif "missing required" in msg:
            code = "missing_required_parameter"
        else:
            code = "invalid_type"
        detail = f"{path}: {msg}" if path else msg
        raise ApiError(400, f"invalid request body: {detail}", param=param, code=code) from exc
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}", code="malformed_json") from exc


def _describe(exc: Exception) -> tuple[int, str, str | None, str | None, dict[str, str]]:
    """(status, message, param, code, headers) for any exception."""
    if isinstance(exc, ApiError):
        return exc.status, exc.message, exc.param, exc.code, exc.headers
    if isinstance(exc, QuestionError):
        return 400, str(exc), None, "invalid_question", {}
    if isinstance(exc, HTTPException):
        detail = exc.detail
        extra = getattr(exc, "extra", None)
        if isinstance(extra, list) and extra:  # Litestar's own validation (path/query parameters)
            parts = [f"{e.get('key')}: {e.get('message')}" if isinstance(e, dict) else str(e) for e in extra]
            detail = f"{detail}: {'; '.join(parts)}"
        return exc.status_code, detail, None, None, dict(exc.headers or {})
    return 500, "internal server error", None, "internal_error", {}


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status, message, param, code, headers = _describe(exc)
    if status == 413:
        limit = request.app.state.settings.max_body_bytes
        message, code = (
            f"request body is too large; the limit is {limit} bytes (QA_MAX_BODY_BYTES)",
            "body_too_large",
        )
    if status >= 500 and not isinstance(exc, ApiError | HTTPException):
        # Unexpected: the full traceback goes to the log, the client gets a plain JSON 500.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
    if request.url.path.startswith("/v1/") or request.url.path == "/v1":
        body: dict[str, Any] = {
            "error": {
                "message": message,
                "type": "invalid_request_error" if status < 500 else "server_error",
                "param": param,
                "code": code,
            }
        }
    else:
        body = {"status_code": status, "detail": message}
        if param:
            body["param"] = param
    return Response(content=body, status_code=status, headers=headers, media_type="application/json")
