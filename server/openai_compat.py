"""OpenAI Chat Completions compatibility: /v1/chat/completions (plain and streamed) and /v1/models.

The reply is the engine's `reply` text (with [n] markers). Citations travel in extension fields:
top-level "citations" (plus "abstained" and "confidence") in a completion, and in the final stream chunk.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Stream

from qa.answer import Answer
from qa.errors import QuestionError
from server.api import run_engine
from server.errors import ApiError, check_question_text, decode_json_body, require_json
from server.openapi import json_body

MODEL_NAME = "corpus-qa"
_WORDS = re.compile(r"\S+\s*|\s+")


class ContentPart(msgspec.Struct):
    type: str
    text: str | None = None


class ChatMessage(msgspec.Struct):
    # Lenient about extra keys (name, refusal...): clients echo earlier assistant messages back whole.
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    tool_calls: list[Any] | None = None


class StreamOptions(msgspec.Struct):
    include_usage: bool = False


class ChatCompletionRequest(msgspec.Struct, forbid_unknown_fields=True):
    """OpenAI's request. Sampling options are accepted and ignored (answers are extracted, not sampled);
    options that would change what comes back (n > 1, tools, logprobs, JSON output) are rejected with 400,
    as are parameters OpenAI does not define."""

    model: str
    messages: list[ChatMessage]
    stream: bool = False
    stream_options: StreamOptions | None = None
    # Accepted, ignored.
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    parallel_tool_calls: bool | None = None
    # Rejected unless left at their defaults.
    n: int | None = None
    tools: list[Any] | None = None
    tool_choice: Any = None
    functions: list[Any] | None = None
    function_call: Any = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    response_format: dict[str, Any] | None = None
    modalities: list[str] | None = None
    audio: Any = None
    logit_bias: dict[str, Any] | None = None


def _unsupported(param: str, why: str) -> ApiError:
    return ApiError(400, f"{param} is not supported: {why}", param=param, code="unsupported_parameter")


def _check_supported(req: ChatCompletionRequest) -> None:
    if req.n not in (None, 1):
        raise _unsupported("n", "this server returns exactly one choice (n must be 1)")
    for name in ("tools", "functions"):
        if getattr(req, name):
            raise _unsupported(name, "this model answers from the articles and cannot call tools")
    if req.tool_choice not in (None, "none"):
        raise _unsupported("tool_choice", "there are no tools to call")
    if req.function_call not in (None, "none"):
        raise _unsupported("function_call", "there are no functions to call")
    if req.logprobs:
        raise _unsupported("logprobs", "answers are extracted from the articles, there are no token probabilities")
    if req.top_logprobs is not None:
        raise _unsupported("top_logprobs", "there are no token probabilities")
    if req.response_format is not None and req.response_format.get("type") != "text":
        raise _unsupported("response_format", 'only {"type": "text"} is supported')
    if req.modalities is not None and req.modalities != ["text"]:
        raise _unsupported("modalities", "only text output is supported")
    if req.audio is not None:
        raise _unsupported("audio", "only text output is supported")
    if req.logit_bias:
        raise _unsupported("logit_bias", "answers are extracted verbatim, not sampled")


def _text_of(m: ChatMessage, i: int) -> str:
    if m.content is None:
        return ""
    if isinstance(m.content, str):
        return m.content
    texts = []
    for j, part in enumerate(m.content):
        if part.type != "text" or part.text is None:
            raise ApiError(
                400,
                f"messages[{i}].content[{j}] has type {part.type!r}; only text content is supported",
                param=f"messages[{i}].content[{j}]",
                code="unsupported_content",
            )
        texts.append(part.text)
    return "\n".join(texts)


def question_and_history(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The last message is the question (it must be the user's); the earlier ones are the history."""
    if not messages:
        raise ApiError(400, "messages must contain at least one message", param="messages", code="empty_messages")
    history: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        if m.role in ("tool", "function") or m.tool_calls:
            raise ApiError(
                400,
                f"messages[{i}]: tool calls and tool messages are not supported",
                param=f"messages[{i}]",
                code="unsupported_parameter",
            )
        role = "system" if m.role == "developer" else m.role
        history.append({"role": role, "content": _text_of(m, i)})
    last = history.pop()
    if last["role"] != "user":
        raise ApiError(
            400,
            f"the last message must have role 'user' (it is the question), not {messages[-1].role!r}",
            param=f"messages[{len(messages) - 1}].role",
            code="invalid_value",
        )
    return last["content"], history


def _usage(question: str, history: list[dict[str, str]], reply: str) -> dict[str, int]:
    # No generative tokenizer here: words stand in for tokens (documented as approximate).
    prompt = len(question.split()) + sum(len(m["content"].split()) for m in history)
    completion = len(reply.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _extensions(answer: Answer) -> dict[str, Any]:
    return {
        "citations": msgspec.to_builtins(answer.citations),
        "abstained": answer.abstained,
        "confidence": answer.confidence,
    }


@post(
    "/v1/chat/completions",
    status_code=200,
    tags=["openai"],
    summary="OpenAI-compatible chat completion",
    operation_class=json_body(ChatCompletionRequest, "OpenAI Chat Completions request.", openai=True),
)
async def chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
    """`chat.completion` (or, with `stream: true`, server-sent `chat.completion.chunk` events ending with
    `data: [DONE]`). Extension fields: `citations`, `abstained`, `confidence`."""
    require_json(request)
    req = decode_json_body(await request.body(), ChatCompletionRequest)
    _check_supported(req)
    question, history = question_and_history(req.messages)
    check_question_text(question, "messages")
    engine = request.app.state.holder.require()
    try:
        # Asked before any byte is sent, so a bad question is still a clean 400 when streaming.
        answer = await run_engine(request, partial(engine.ask, question, history=history))
    except QuestionError as exc:
        raise ApiError(400, str(exc), param="messages", code="invalid_question") from exc

    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    usage = _usage(question, history, answer.reply)
    if not req.stream:
        return Response(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": MODEL_NAME,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.reply, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
                **_extensions(answer),
            }
        )
    include_usage = bool(req.stream_options and req.stream_options.include_usage)
    events = _stream_events(answer, completion_id, created, usage if include_usage else None)
    return Stream(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream_events(
    answer: Answer, completion_id: str, created: int, usage: dict[str, int] | None
) -> AsyncIterator[bytes]:
    def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_NAME,
            "choices": choices,
            **extra,
        }
        return b"data: " + msgspec.json.encode(chunk) + b"\n\n"

    def delta(d: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish}]

    yield event(delta({"role": "assistant", "content": ""}))
    # The answer is complete already; sending it a few words at a time keeps streaming clients' UX normal.
    words = _WORDS.findall(answer.reply)
    for i in range(0, len(words), 4):
        yield event(delta({"content": "".join(words[i : i + 4])}))
    yield event(delta({}, "stop"), **_extensions(answer))
    if usage is not None:
        yield event([], usage=usage)
    yield b"data: [DONE]\n\n"


@get("/v1/models", tags=["openai"], summary="The one model this server offers", sync_to_thread=False)
def list_models(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"object": "list", "data": [_model_card(request)]}


@get("/v1/models/{model_id:str}", tags=["openai"], summary="Describe a model", sync_to_thread=False)
def get_model(request: Request[Any, Any, Any], model_id: FromPath[str]) -> dict[str, Any]:
    if model_id != MODEL_NAME:
        raise ApiError(404, f"The model {model_id!r} does not exist", param="model", code="model_not_found")
    return _model_card(request)


def _model_card(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {
        "id": MODEL_NAME,
        "object": "model",
        "created": request.app.state.started_at,
        "owned_by": "corpus-qa",
    }
