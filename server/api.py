"""The JSON API: /api/ask, /api/documents, /health."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from qa.answer import Answer
from qa.filters import Filters
from server.errors import ApiError, check_question_text, decode_json_body, require_json
from server.openapi import json_body
from server.state import EngineHolder

T = TypeVar("T")


class HistoryMessage(msgspec.Struct, forbid_unknown_fields=True):
    """One earlier turn, OpenAI convention; send back our `reply` as the assistant's content."""

    role: Literal["system", "user", "assistant"]
    content: str


class AskRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A question, with the conversation so far for follow-ups ("How did he apologize?")."""

    question: Annotated[str, msgspec.Meta(min_length=1)]  # and not only whitespace/control characters
    history: list[HistoryMessage] | None = None
    top_k: int | None = None  # passages to retrieve (default QA_TOP_K)
    filters: Filters | None = None
    candidates: int = 1  # how many ranked alternative answers to return (1-20)
    # Overrides the abstention threshold for this request (0 = never abstain, for threshold sweeps).
    threshold: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] | None = None


class DocumentSummary(msgspec.Struct):
    id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    length: int  # characters in `text`; citation offsets index into it


class DocumentDetail(msgspec.Struct):
    id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    length: int
    text: str  # the original text: text[citation.start:citation.end] == citation.quote


def holder_of(request: Request[Any, Any, Any]) -> EngineHolder:
    return request.app.state.holder


async def run_engine(request: Request[Any, Any, Any], fn: Callable[[], T]) -> T:
    """Run an engine call in a worker thread: it is CPU-bound and must never block the event loop.

    A dedicated limiter (server.app.ASK_THREADS) lets enough calls run at once for their question
    embeddings to be batched together, and queues the rest in order on the loop.
    """
    return await anyio.to_thread.run_sync(fn, limiter=request.app.state.ask_limiter)


@post(
    "/api/ask",
    status_code=200,
    tags=["qa"],
    summary="Answer a question from the articles",
    operation_class=json_body(AskRequest, "A question, optionally with history, filters and a threshold."),
)
async def ask(request: Request[Any, Any, Any]) -> Answer:
    """The extractive answer, its citations (offsets into the documents) and related passages.

    Abstains (`abstained: true`, `answer: null`) when the confidence is below the threshold.
    """
    require_json(request)
    req = decode_json_body(await request.body(), AskRequest)
    check_question_text(req.question)
    engine = holder_of(request).require()
    history = None if req.history is None else [{"role": m.role, "content": m.content} for m in req.history]
    call = partial(
        engine.ask,
        req.question,
        history=history,
        top_k=req.top_k,
        filters=req.filters,
        candidates=req.candidates,
        threshold=req.threshold,
    )
    return await run_engine(request, call)


@get("/api/documents", tags=["documents"], summary="List the indexed documents", sync_to_thread=False)
def list_documents(request: Request[Any, Any, Any]) -> list[DocumentSummary]:
    docs = holder_of(request).require().index.documents
    return [
        DocumentSummary(id=d.doc_id, title=d.title, date=d.date, source=d.source, url=d.url, length=len(d.text))
        for d in sorted(docs.values(), key=lambda d: d.doc_id)
    ]


@get("/api/documents/{doc_id:str}", tags=["documents"], summary="One document's text", sync_to_thread=False)
def get_document(request: Request[Any, Any, Any], doc_id: FromPath[str]) -> DocumentDetail:
    """The original text and metadata, to show a citation in context."""
    doc = holder_of(request).require().index.documents.get(doc_id)
    if doc is None:
        raise ApiError(404, f"unknown document id: {doc_id!r}", param="doc_id", code="document_not_found")
    return DocumentDetail(
        id=doc.doc_id, title=doc.title, date=doc.date, source=doc.source, url=doc.url, length=len(doc.text),
        text=doc.text,
    )  # fmt: skip


@get("/health", tags=["service"], summary="Readiness", sync_to_thread=False)
def health(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 {"status": "ready", ...} once the index is loaded; else 503 {"status": "loading"} or "error"."""
    status, body = holder_of(request).health()
    return Response(body, status_code=status)
