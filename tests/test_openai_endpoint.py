"""/v1/chat/completions and /v1/models against the real server, with the real `openai` client and raw HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

LAWSUIT_Q = "How much was the lawsuit against the set designer?"


@pytest.fixture(scope="module")
def oai(live_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key="x", max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def http(live_server) -> httpx.Client:
    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        yield c


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


# -- the openai client ----------------------------------------------------------------------------------


def test_client_non_streaming(oai: openai.OpenAI, http: httpx.Client) -> None:
    completion = oai.chat.completions.create(model="gpt-4o-mini", messages=[user(LAWSUIT_Q)])
    assert completion.object == "chat.completion"
    assert completion.model == "corpus-qa"  # ours, whatever was asked for
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content.startswith("$25 million [1]")
    assert completion.usage is not None and completion.usage.total_tokens > 0
    extra = completion.model_extra
    assert extra["abstained"] is False
    cit = extra["citations"][0]
    assert cit["index"] == 1
    text = http.get(f"/api/documents/{cit['doc_id']}").json()["text"]
    assert text[cit["start"] : cit["end"]] == cit["quote"]


def test_client_streaming_matches_non_streaming(oai: openai.OpenAI) -> None:
    plain = oai.chat.completions.create(model="m", messages=[user(LAWSUIT_Q)])
    chunks = list(oai.chat.completions.create(model="m", messages=[user(LAWSUIT_Q)], stream=True))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == plain.choices[0].message.content
    assert len(chunks) > 3, "the reply arrives in several pieces"
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] == plain.model_extra["citations"]
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_client_streaming_usage_chunk(oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(
            model="m", messages=[user(LAWSUIT_Q)], stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_client_follow_up_with_history(oai: openai.OpenAI) -> None:
    messages: list[Any] = [
        {"role": "system", "content": "Answer from the articles."},
        user("Who is Balenciaga's creative director?"),
    ]
    first = oai.chat.completions.create(model="m", messages=messages)
    assert "Demna" in first.choices[0].message.content
    messages += [{"role": "assistant", "content": first.choices[0].message.content}, user("How did he apologize?")]
    follow = oai.chat.completions.create(model="m", messages=messages)
    assert follow.model_extra["abstained"] is False
    assert "apologiz" in follow.choices[0].message.content.lower()


def test_client_accepts_and_ignores_sampling_parameters(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="m",
        messages=[{"role": "developer", "content": "Be brief."}, user(LAWSUIT_Q)],
        temperature=0.2,
        top_p=0.9,
        max_tokens=5,
        user="tester",
        n=1,
        seed=1,
        stop=["\n"],
        response_format={"type": "text"},
    )
    assert completion.choices[0].message.content.startswith("$25 million")


def test_client_text_content_parts(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": [{"type": "text", "text": LAWSUIT_Q}]}]
    )
    assert completion.choices[0].message.content.startswith("$25 million")


def test_client_abstains_plainly(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(model="m", messages=[user("What is the capital of France?")])
    assert completion.choices[0].message.content.startswith("The articles don't say")
    assert completion.model_extra["abstained"] is True and completion.model_extra["citations"] == []


def test_client_sees_400_for_unsupported_parameter(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model="m", messages=[user(LAWSUIT_Q)], n=2)
    err = info.value.body
    assert err["type"] == "invalid_request_error" and err["param"] == "n"
    assert "n must be 1" in err["message"]


def test_client_models(oai: openai.OpenAI) -> None:
    models = oai.models.list()
    assert [m.id for m in models.data] == ["corpus-qa"]
    assert oai.models.retrieve("corpus-qa").id == "corpus-qa"
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("gpt-5")


# -- raw HTTP: the stream format and every rejected request -------------------------------------------------


def test_raw_stream_is_server_sent_events_ending_with_done(http: httpx.Client) -> None:
    body = {"model": "m", "messages": [user(LAWSUIT_Q)], "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    events = raw.split("\n\n")
    assert events[-1] == "" and events[-2] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert all(e.startswith("data: ") for e in events[:-1])
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "corpus-qa" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]


BAD_CHATS: list[tuple[str, Any, str, str | None]] = [
    # (case, body, text the message must contain, param)
    ("n=2", {"n": 2}, "n must be 1", "n"),
    ("tools", {"tools": [{"type": "function", "function": {"name": "f"}}]}, "cannot call tools", "tools"),
    ("functions", {"functions": [{"name": "f"}]}, "cannot call tools", "functions"),
    ("tool_choice", {"tool_choice": "auto"}, "no tools", "tool_choice"),
    ("logprobs", {"logprobs": True}, "no token probabilities", "logprobs"),
    ("top_logprobs", {"top_logprobs": 2}, "no token probabilities", "top_logprobs"),
    ("json output", {"response_format": {"type": "json_object"}}, 'only {"type": "text"}', "response_format"),
    ("audio output", {"modalities": ["text", "audio"]}, "only text output", "modalities"),
    ("unknown parameter", {"frobnicate": True}, "unknown field `frobnicate`", "frobnicate"),
    ("missing model", {"model": None}, "model", "model"),
    ("messages missing", {"messages": None}, "messages", "messages"),
    ("messages empty", {"messages": []}, "at least one message", "messages"),
    ("messages not a list", {"messages": "hi"}, "messages", "messages"),
    (
        "last message not user",
        {"messages": [user("hi"), {"role": "assistant", "content": "yo"}]},
        "role 'user'",
        "messages[1].role",
    ),
    ("bad role", {"messages": [{"role": "robot", "content": "hi"}]}, "robot", "messages[0].role"),
    (
        "tool message",
        {"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}, user("hi")]},
        "tool",
        "messages[0]",
    ),
    (
        "image content",
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
        "only text content",
        "messages[0].content[0]",
    ),
    ("empty question", {"messages": [user("   ")]}, "question is empty", "messages"),
    ("over-long question", {"messages": [user("a" * 1001)]}, "the limit is 1000", "messages"),
    ("stream not bool", {"stream": "yes"}, "stream", "stream"),
]


@pytest.mark.parametrize(("case", "change", "needle", "param"), BAD_CHATS, ids=[c[0] for c in BAD_CHATS])
def test_bad_chat_request_is_400_in_openai_shape(
    http: httpx.Client, case: str, change: dict[str, Any], needle: str, param: str | None
) -> None:
    body: dict[str, Any] = {"model": "m", "messages": [user(LAWSUIT_Q)], **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = http.post("/v1/chat/completions", json=body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["type"] == "invalid_request_error"
    assert needle in err["message"], err
    assert err["param"] == param


@pytest.mark.parametrize(
    ("content", "status", "needle"),
    [(b"{not json", 400, "not valid JSON"), (b"", 400, "body is empty"), (b"x" * 70_000, 413, "too large")],
    ids=["malformed", "empty", "too large"],
)
def test_unreadable_chat_body_in_openai_shape(http: httpx.Client, content: bytes, status: int, needle: str) -> None:
    r = http.post("/v1/chat/completions", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == status
    assert needle in r.json()["error"]["message"]


def test_unknown_v1_route_in_openai_shape(http: httpx.Client) -> None:
    r = http.post("/v1/completions", json={"model": "m", "prompt": "hi"})
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "invalid_request_error"
