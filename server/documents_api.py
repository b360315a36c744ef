"""Changing the corpus over HTTP: POST /api/documents, PUT and DELETE /api/documents/{id}, GET /api/index.

Writes need `Authorization: Bearer <QA_API_TOKEN>`; with no token configured they are off (403 says so).
A change is written to the corpus folder atomically (index/corpus_writes.py), then the index is rebuilt in
the background (server/rebuilds.py) and swapped in when it is ready: the answer is 202 Accepted, and
GET /api/index follows the rebuild. Nothing of a rejected request is written.
"""

from __future__ import annotations

import hmac
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from index.corpus_writes import (
    CorpusChangeError,
    NewDocument,
    add_document,
    add_file,
    delete_document,
    parse_file,
    replace_document,
)
from index.records import Document
from qa.settings import Settings
from server.api import DocumentSummary, holder_of
from server.errors import ApiError, decode_json_body
from server.openapi import json_body
from server.rebuilds import Rebuilder


class DocumentUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A document's text and fields; title defaults to its first line."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5_000_000)]
    title: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    date: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None  # YYYY-MM-DD
    source: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    url: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class NewDocumentBody(DocumentUpdate, forbid_unknown_fields=True):
    """A new document as JSON; `id` is made up when missing (letters, digits, '.', '_', '-')."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None


class ChangeAccepted(msgspec.Struct):
    """The change is on disk; the index rebuild that serves it runs in the background (see `index`)."""

    message: str
    documents: list[DocumentSummary]
    index: dict[str, Any]


def _summary(doc: Document) -> DocumentSummary:
    return DocumentSummary(doc.doc_id, doc.title, doc.date, doc.source, doc.url, len(doc.text))


def _rebuilder(request: Request[Any, Any, Any]) -> Rebuilder:
    return request.app.state.rebuilder


def require_token(request: Request[Any, Any, Any]) -> None:
    """401/403 unless the request carries the configured bearer token."""
    token = request.app.state.settings.api_token
    if not token:
        raise ApiError(403, "document writes are off on this server: start it with QA_API_TOKEN set to enable them",
                       code="writes_disabled")  # fmt: skip
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "missing or wrong bearer token: send `Authorization: Bearer <QA_API_TOKEN>`",
                       code="unauthorized", headers={"WWW-Authenticate": "Bearer"})  # fmt: skip


def require_writer(request: Request[Any, Any, Any]) -> None:
    """The token (401/403), then a loaded engine (503 while loading or after a failed load): a change accepted
    before then would be written to the corpus but never indexed, since a rebuild starts from the live engine."""
    require_token(request)
    holder_of(request).require()


def _media_type(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _in_thread(fn: Any) -> Any:
    try:
        return await anyio.to_thread.run_sync(fn)
    except CorpusChangeError as exc:
        raise ApiError(exc.status, str(exc), code="document_rejected" if exc.status == 400 else None) from exc


def _as_new(body: DocumentUpdate) -> NewDocument:
    return NewDocument(text=body.text, title=body.title, date=body.date, source=body.source, url=body.url)


def _accepted(request: Request[Any, Any, Any], message: str, docs: list[Document], status: int = 202) -> Response:
    return Response(
        ChangeAccepted(message, [_summary(d) for d in docs], _rebuilder(request).status()), status_code=status
    )


def routes(settings: Settings) -> list[HTTPRouteHandler]:
    """The handlers, with the upload size limit from `settings` (decorators need it at creation)."""
    limit = settings.max_upload_bytes

    @post(
        "/api/documents",
        status_code=202,
        tags=["documents"],
        summary="Add documents (JSON fields, or uploaded .txt/.md/.html/.jsonl files)",
        request_max_body_size=limit,
        operation_class=json_body(NewDocumentBody, "One document as JSON, or multipart/form-data with files."),
    )
    async def add_documents(request: Request[Any, Any, Any]) -> Response:
        """Writes the new document(s) into the corpus folder, then rebuilds the index in the background.

        409 when an id or file name is taken (PUT replaces), 400 when a file would not index, with the reason.
        """
        require_writer(request)
        corpus = request.app.state.settings.corpus_dir
        kind = _media_type(request)
        if kind == "application/json":
            body = decode_json_body(await request.body(), NewDocumentBody)
            doc = await _in_thread(partial(add_document, corpus, _as_new(body), body.id))
            _rebuilder(request).request(f"added {doc.doc_id}")
            return _accepted(request, f"added {doc.doc_id}; the index is being rebuilt", [doc])
        if kind != "multipart/form-data":
            raise ApiError(415, f"send application/json or multipart/form-data, not {kind or 'no Content-Type'!r}",
                           code="unsupported_media_type")  # fmt: skip
        form = await request.form()
        files = [(v.filename, await v.read()) for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not files:
            raise ApiError(400, "no file in the form: attach .txt, .md, .html or .jsonl files", code="no_file")
        names = [n for n, _ in files]
        if len(set(names)) != len(names):
            raise ApiError(400, "the same file name is sent twice", code="document_rejected")

        def write_all() -> list[Document]:
            # Every file is parsed (and every id checked) before the first is written.
            parsed = [parse_file(name, data) for name, data in files]
            ids = [d.doc_id for docs in parsed for d in docs]
            if len(set(ids)) != len(ids):
                raise CorpusChangeError(400, "the files hold the same document id more than once")
            return [d for name, data in files for d in add_file(corpus, name, data)]

        docs = await _in_thread(write_all)
        _rebuilder(request).request("added " + ", ".join(d.doc_id for d in docs))
        return _accepted(request, f"added {len(docs)} document(s); the index is being rebuilt", docs)

    @put(
        "/api/documents/{doc_id:str}",
        status_code=202,
        tags=["documents"],
        summary="Replace a document's text and fields",
        request_max_body_size=limit,
        operation_class=json_body(DocumentUpdate, "The new text and fields of the document."),
    )
    async def replace(request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Response:
        require_writer(request)
        if _media_type(request) != "application/json":
            raise ApiError(415, "send the document as application/json", code="unsupported_media_type")
        body = decode_json_body(await request.body(), DocumentUpdate)
        corpus = request.app.state.settings.corpus_dir
        doc = await _in_thread(partial(replace_document, corpus, doc_id, _as_new(body)))
        _rebuilder(request).request(f"replaced {doc_id}")
        return _accepted(request, f"replaced {doc_id}; the index is being rebuilt", [doc])

    @delete("/api/documents/{doc_id:str}", status_code=202, tags=["documents"], summary="Delete a document")
    async def remove(request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Response:
        require_writer(request)
        corpus = request.app.state.settings.corpus_dir
        await _in_thread(partial(delete_document, corpus, doc_id))
        _rebuilder(request).request(f"deleted {doc_id}")
        return _accepted(request, f"deleted {doc_id}; the index is being rebuilt", [])

    @get("/api/index", tags=["documents"], summary="The index in use and any rebuild in progress",
         sync_to_thread=False)  # fmt: skip
    def index_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
        """`build`: the build answering now; `rebuild.state`: idle, pending or building, with progress."""
        holder = request.app.state.holder
        engine = holder.engine
        return {
            "build": engine.index.build_dir.name if engine else None,
            "documents": len(engine.index.documents) if engine else None,
            "swaps": holder.swaps,
            "writes_enabled": bool(request.app.state.settings.api_token),
            "rebuild": _rebuilder(request).status(),
        }

    return [add_documents, replace, remove, index_status]
