"""OpenAPI documentation for request bodies that the handlers decode themselves.

The handlers read raw bytes and decode them strictly with msgspec (for exact error messages), so Litestar
cannot infer their request bodies; these helpers describe them from the same msgspec structs instead.
The schemas are inlined: Litestar 2.25 replaces components/schemas given in OpenAPIConfig with its own.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
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


def json_body(struct: type, description: str | None = None) -> type[Operation]:
    """An Operation class whose request body is `struct`, for a handler's `operation_class`."""
    schema = schema_for(struct)

    @dataclasses.dataclass
    class _JsonBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                required=True,
                description=description,
                content={"application/json": OpenAPIMediaType(schema=schema)},
            )

    return _JsonBodyOperation
