"""OpenAPI documentation for request bodies that the handlers decode themselves, and the schema pages.

The handlers read raw bytes and decode them strictly with msgspec (for exact error messages), so Litestar
cannot infer their request bodies; these helpers describe them from the same msgspec structs instead, with
the error responses those handlers give (400/413/415/503).
The schemas are inlined: Litestar 2.25 replaces components/schemas given in OpenAPIConfig with its own.

/schema serves no page that loads anything from elsewhere: Litestar's interactive renderers (Scalar, Swagger,
Redoc...) fetch their scripts from a CDN, so only the JSON and YAML documents and a small self-contained
index page (`SchemaIndexPage`) are served.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any

import msgspec
from litestar import MediaType, Request
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

_REF = "#/$defs/{name}"
_ALIASES = {f.metadata.get("alias", f.name): f.name for f in dataclasses.fields(Schema)}
_FORMATS = {f.value for f in OpenAPIFormat}


def _to_schema(node: Any, defs: dict[str, Any]) -> Any:
    """A JSON-schema dict (as msgspec writes it) -> Litestar's Schema objects, references inlined."""
    if isinstance(node, list):
        return [_to_schema(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _to_schema(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    kwargs: dict[str, Any] = {}
    for key, value in node.items():
        name = _ALIASES.get(key)
        if name is None:
            continue
        if name == "type":
            value = [OpenAPIType(v) for v in value] if isinstance(value, list) else OpenAPIType(value)
        elif name == "format":
            if value not in _FORMATS:
                continue
            value = OpenAPIFormat(value)
        elif name == "properties":
            value = {k: _to_schema(v, defs) for k, v in value.items()}
        elif isinstance(value, dict | list) and name not in {"enum", "required", "examples", "default"}:
            value = _to_schema(value, defs)
        kwargs[name] = value
    return Schema(**kwargs)


def schema_for(struct: type) -> Schema:
    """The OpenAPI schema of a msgspec struct, references inlined (our request types are not recursive)."""
    _, defs = msgspec.json.schema_components([struct], ref_template=_REF)
    return _to_schema(defs[struct.__name__], defs)


_STR = Schema(type=OpenAPIType.STRING)
_NULLABLE_STR = Schema(type=[OpenAPIType.STRING, OpenAPIType.NULL])
# server/errors.py's two shapes: {"status_code", "detail", "param"?} under /api, OpenAI's {"error": {...}} under /v1.
API_ERROR = Schema(
    type=OpenAPIType.OBJECT,
    properties={"status_code": Schema(type=OpenAPIType.INTEGER), "detail": _STR, "param": _STR},
    required=["status_code", "detail"],
)
OPENAI_ERROR = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "error": Schema(
            type=OpenAPIType.OBJECT,
            properties={"message": _STR, "type": _STR, "param": _NULLABLE_STR, "code": _NULLABLE_STR},
            required=["message", "type", "param", "code"],
        )
    },
    required=["error"],
)
ERROR_RESPONSES = {
    "400": "Invalid request; the message names the field (malformed or too deeply nested JSON, a wrong type, an "
    "unknown field, an empty question, an impossible date, an empty filter list...).",
    "413": "The body is larger than the limit (QA_MAX_BODY_BYTES).",
    "415": "The Content-Type is not application/json.",
    "503": "The model and index are still loading (with Retry-After), or failed to load.",
}


def json_body(struct: type, description: str | None = None, *, openai: bool = False) -> type[Operation]:
    """An Operation class whose request body is `struct`, for a handler's `operation_class`, with the error
    responses of a handler that decodes JSON (ERROR_RESPONSES; OpenAI's error shape when `openai`)."""
    schema = schema_for(struct)
    error = OPENAI_ERROR if openai else API_ERROR
    errors = {
        code: OpenAPIResponse(description=text, content={"application/json": OpenAPIMediaType(schema=error)})
        for code, text in ERROR_RESPONSES.items()
    }

    @dataclasses.dataclass
    class _JsonBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                required=True,
                description=description,
                content={"application/json": OpenAPIMediaType(schema=schema)},
            )
            # Ours replace Litestar's generic 400 (the handlers validate and word their errors themselves).
            self.responses = {**(self.responses or {}), **errors}

    return _JsonBodyOperation


class SchemaIndexPage(OpenAPIRenderPlugin):
    """/schema: the operations and links to the JSON and YAML documents; no scripts, styles or requests."""

    def __init__(self) -> None:
        super().__init__(path="/", media_type=MediaType.HTML)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        info = openapi_schema.get("info", {})
        rows = []
        for path, item in openapi_schema.get("paths", {}).items():
            for method, op in item.items():
                if isinstance(op, dict) and "responses" in op:
                    rows.append(
                        f"<li><code>{html.escape(method.upper())} {html.escape(path)}</code> "
                        f"{html.escape(op.get('summary') or '')}</li>"
                    )
        title = html.escape(f"{info.get('title', 'API')} {info.get('version', '')}".strip())
        json_url = self.get_openapi_json_route(request)
        yaml_url = json_url.rsplit("/", 1)[0] + "/openapi.yaml"
        page = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f"<h1>{title}</h1><p>{html.escape(info.get('description') or '')}</p>"
            f'<p>The OpenAPI document: <a href="{html.escape(json_url)}">openapi.json</a>, '
            f'<a href="{html.escape(yaml_url)}">openapi.yaml</a>.</p>'
            f"<ul>{''.join(rows)}</ul></body></html>"
        )
        return page.encode()


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """For OpenAPIConfig(render_plugins=...): /schema (SchemaIndexPage), /schema/openapi.json and .yaml."""
    return [SchemaIndexPage(), JsonRenderPlugin(), YamlRenderPlugin()]
