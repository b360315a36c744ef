"""Every error as JSON: {"status_code", "detail"} under /api, OpenAI's {"error": {...}} shape under /v1.

One handler for all exceptions so no request ever gets an HTML page or a traceback; only truly
unexpected errors become a 500, and those are logged with their traceback on the server side.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any, TypeVar

import msgspec
import numpy as np
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

# Arrays/objects nested deeper than this are refused before decoding. No request here needs more than 4
# levels; without a limit ~1,000 brackets (2 KB) made msgspec raise RecursionError (a 500 and a traceback).
MAX_JSON_DEPTH = 32
# A JSON string, or an unterminated one running to the end: every '"' starts a match, so this stays linear.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = (ord("["), ord("{"))


def nested_too_deeply(body: bytes) -> bool:
    """Whether arrays/objects nest deeper than MAX_JSON_DEPTH (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    brackets = np.frombuffer(_JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if brackets.size == 0:
        return False
    depth = np.cumsum(np.where(np.isin(brackets, _OPENING), 1, -1))
    return int(depth.max()) > MAX_JSON_DEPTH


def _nested_too_deeply() -> ApiError:
    return ApiError(
        400,
        f"request body is nested too deeply: more than {MAX_JSON_DEPTH} levels of arrays/objects",
        code="nested_too_deeply",
    )


def require_json(request: Any) -> None:
    """415 unless the request says its body is JSON. A form on a hostile page can POST text/plain to this
    server without a CORS preflight; it cannot send application/json, so this check keeps such posts out."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        raise ApiError(
            415,
            f"send the request body as application/json (the Content-Type is {kind or 'missing'!r})",
            code="unsupported_media_type",
        )


def check_question_text(text: str, param: str = "question") -> None:
    """400 for a question with nothing to read: only whitespace, control or format characters (NULs...)."""
    if not any(not c.isspace() and unicodedata.category(c)[0] != "C" for c in text):
        why = ": it has only control or invisible characters" if text.strip() else ""
        raise ApiError(400, f"question is empty{why}", param=param, code="empty_question")


def decode_json_body(body: bytes, type_: type[T]) -> T:
    """Strictly decode a request body into `type_`; msgspec's errors become messages naming the field.

    Decoding by hand (not Litestar's `data:` injection) keeps types strict ("5" is not an int) and lets the
    message say exactly which field is wrong, including for an empty body or an unknown field.
    """
    if not body.strip():
        raise ApiError(400, "request body is empty; send a JSON object", code="empty_body")
    if nested_too_deeply(body):
        raise _nested_too_deeply()
    try:
        return msgspec.json.decode(body, type=type_)
    except RecursionError:  # not reachable below MAX_JSON_DEPTH; kept so it can never become a 500
        raise _nested_too_deeply() from None
    except msgspec.ValidationError as exc:
        match = _AT.match(str(exc))
        msg, path = (match["msg"], (match["path"] or "").lstrip(".")) if match else (str(exc), "")
        param = path or None
        if path and msg.startswith(("Expected `array` of length >= 1", "Expected `str` of length >= 1")):
            hint = "; omit it for no filter" if path.startswith("filters.") else ""
            raise ApiError(400, f"{path} is empty{hint}", param=param, code="invalid_value") from exc
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


# An absolute filesystem path in a message (two components at least, not one of our URL paths): the client
# sees only its last component, the server log keeps the whole message.
_ABS_PATH = re.compile(r"""(?<![\w.~/-])/(?!(?:api|v1|static|schema|health)\b)(?:[^\s/'"`:;,()]+/)+[^\s/'"`:;,()]*""")


def hide_paths(message: str) -> str:
    """`message` with each absolute path replaced by its last component ("index at /srv/qa/var/index" ->
    "index at .../index"), so errors do not disclose the server's layout."""
    return _ABS_PATH.sub(lambda m: ".../" + m.group(0).rstrip("/").rsplit("/", 1)[-1], message)


def _body_limit(request: Request[Any, Any, Any]) -> tuple[int, str]:
    """The body limit the request was held to, and its setting: document writes take uploads
    (server/documents_api.py), everything else QA_MAX_BODY_BYTES."""
    settings = request.app.state.settings
    if request.url.path.startswith("/api/documents") and request.method in ("POST", "PUT"):
        return settings.max_upload_bytes, "QA_MAX_UPLOAD_BYTES"
    return settings.max_body_bytes, "QA_MAX_BODY_BYTES"


def exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status, message, param, code, headers = _describe(exc)
    shown = hide_paths(message)
    if shown != message:
        log.info("%s %s: %d %s", request.method, request.url.path, status, message)
        message = shown
    if status == 413:
        limit, setting = _body_limit(request)
        message, code = f"request body is too large; the limit is {limit} bytes ({setting})", "body_too_large"
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
