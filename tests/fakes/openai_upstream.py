"""A real OpenAI/vLLM-protocol HTTP server for tests and benchmarks: tiny ASGI app, uvicorn in a thread.

Its answers are a deterministic function of the request, so tests can compute what to expect:

- a choice's text is the words of the last user message in reverse order (:func:`fake_reply`), the
  choice ``index`` rotating them by ``index`` more places, ``seed`` by ``seed`` more;
- each word (with its leading space) is one token; ``max_tokens`` truncates (``finish_reason="length"``),
  ``stop`` cuts before the first stop string (``"stop"``);
- with ``tools`` and ``tool_choice`` ``"required"``/a named function (or ``"auto"`` when the user message
  names a tool), it calls that tool with ``{"texte": <last user message>}`` in two argument fragments;
- with ``response_format`` ``json_object`` it answers ``{"reponse": <that text>}``; with ``json_schema``, the
  instance of the schema (:func:`schema_instance`) where strings are the last user message, integers and numbers
  its word count, booleans true, arrays one item, enums their first value;
- prompt tokens are the words of every message; embeddings are signed feature-hashing vectors.

Faults are set per test on :attr:`FakeUpstream.faults` (see :class:`Faults`); ``stop()``/``start()`` take the
server down and up again on the same port, and :func:`closed_port_url` gives a URL nobody listens on.
Every request is recorded in :attr:`FakeUpstream.requests`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn

__all__ = [
    "FakeUpstream",
    "Faults",
    "RecordedRequest",
    "closed_port_url",
    "fake_reply",
    "fake_tokens",
    "schema_instance",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TOKEN = re.compile(r"\s*\S+")


def fake_tokens(text: str) -> list[str]:
    """The fake's tokenizer: one token per word, leading whitespace included, so tokens join back to text."""
    return _TOKEN.findall(text)


def fake_reply(user_text: str, *, index: int = 0, seed: int | None = None) -> str:
    """The text the fake answers before truncation: reversed words, rotated by ``index`` (+ ``seed``)."""
    words = user_text.split()[::-1]
    if not words:
        return "(vide)"
    shift = (index + (seed or 0)) % len(words)
    return " ".join(words[shift:] + words[:shift])


@dataclass
class Faults:
    """Failure modes, all off by default. Mutate them from the test; the server thread reads them live."""

    status: int | None = None  # answer /v1/chat/completions with this HTTP status and an OpenAI error
    fail_times: int | None = None  # apply ``status`` to this many requests only (None: to all)
    stall_before_headers: bool = False  # read the request, answer nothing until released or stopped
    first_token_delay: float = 0.0  # headers (and role chunk) at once, first token after this many s
    die_after_tokens: int | None = None  # cut the connection after this many tokens
    garbage_after_tokens: int | None = None  # send a non-JSON data line after this many tokens
    tokens_per_second: float | None = None  # pace the stream
    omit_done: bool = False  # end the stream without ``data: [DONE]`` (still with finish_reason)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class FakeUpstream:
    """The server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    models: list[str] = field(default_factory=lambda: ["fake-model"])
    faults: Faults = field(default_factory=Faults)
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _closing: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """Base URL including the ``/v1`` prefix, as a backend's ``base_url``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        self.faults = Faults()
        self.requests.clear()

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def start(self) -> FakeUpstream:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            lifespan="off",
            ws="none",
            http="h11",
            log_level="critical",
            timeout_graceful_shutdown=1,
        )
        self._closing.clear()
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("le faux serveur amont n'a pas démarré")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut down; the port then refuses connections until :meth:`start`."""
        self._closing.set()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- ASGI ---------------------------------------------------------------------------------------------

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        body: dict[str, Any] | None = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                await _json(send, 400, _error("corps JSON invalide", "BadRequestError"))
                return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        self.requests.append(RecordedRequest(scope["method"], path, headers, body))
        if path == "/health":
            await _json(send, 200, {})
        elif path == "/v1/models":
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake", "max_model_len": 4096}
                for m in self.models
            ]
            await _json(send, 200, {"object": "list", "data": data})
        elif path == "/tokenize" and body is not None:
            count = sum(len(fake_tokens(_text(m))) for m in body.get("messages", []))
            await _json(send, 200, {"count": count, "max_model_len": 4096, "tokens": list(range(count))})
        elif path == "/v1/embeddings" and body is not None:
            await self._embeddings(send, body)
        elif path == "/v1/chat/completions" and body is not None:
            await self._chat(send, body)
        else:
            await _json(send, 404, _error(f"route inconnue : {path}", "NotFoundError"))

    async def _embeddings(self, send: Send, body: dict[str, Any]) -> None:
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs]
        size = int(body.get("dimensions") or 32)
        data = [{"object": "embedding", "index": i, "embedding": _hash_vector(t, size)} for i, t in enumerate(texts)]
        tokens = sum(len(fake_tokens(t)) for t in texts)
        await _json(
            send,
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    async def _chat(self, send: Send, body: dict[str, Any]) -> None:
        faults = self.faults
        if faults.status is not None and (faults.fail_times is None or faults.fail_times > 0):
            if faults.fail_times is not None:
                faults.fail_times -= 1
            await _json(send, faults.status, _error(f"panne simulée {faults.status}", "InternalServerError"))
            return
        if faults.stall_before_headers:
            while faults.stall_before_headers and not self._closing.is_set():
                await asyncio.sleep(0.02)
            return
        if body.get("model") not in self.models:
            await _json(send, 404, _error(f"The model `{body.get('model')}` does not exist.", "NotFoundError"))
            return
        plan = _plan(body)
        if not body.get("stream"):
            await _json(send, 200, _full_response(body, plan))
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream; charset=utf-8")],
            }
        )
        await self._stream(send, body, plan, faults)

    async def _stream(self, send: Send, body: dict[str, Any], plan: list[_Choice], faults: Faults) -> None:
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": body["model"],
        }

        async def event(payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
            await send({"type": "http.response.body", "body": f"data: {data}\n\n".encode(), "more_body": True})

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None, **more: Any) -> dict[str, Any]:
            return {**base, "choices": [{"index": index, "delta": delta, "finish_reason": finish, **more}]}

        for choice in plan:
            await event(chunk(choice.index, {"role": "assistant", "content": ""}))
        if faults.first_token_delay:
            await asyncio.sleep(faults.first_token_delay)
        sent = 0
        for choice in plan:
            for token in choice.tokens:
                if faults.die_after_tokens is not None and sent >= faults.die_after_tokens:
                    return  # leaves the chunked body unterminated: the client sees a cut connection
                if faults.garbage_after_tokens is not None and sent >= faults.garbage_after_tokens:
                    await event('{"choices": [{"delta": {"content": "oups"')
                    await send({"type": "http.response.body", "body": b""})
                    return
                extra: dict[str, Any] = {"logprobs": {"content": [_logprob(token)]}} if body.get("logprobs") else {}
                await event(chunk(choice.index, {"content": token}, **extra))
                sent += 1
                if faults.tokens_per_second:
                    await asyncio.sleep(1 / faults.tokens_per_second)
            for position, call in enumerate(choice.tool_calls):
                arguments = call["function"]["arguments"]
                half = len(arguments) // 2
                head = {
                    "index": position,
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": arguments[:half]},
                }
                await event(chunk(choice.index, {"tool_calls": [head]}))
                tail = {"index": position, "function": {"arguments": arguments[half:]}}
                await event(chunk(choice.index, {"tool_calls": [tail]}))
            await event(chunk(choice.index, {}, choice.finish_reason))
        if (body.get("stream_options") or {}).get("include_usage"):
            await event({**base, "choices": [], "usage": _usage(body, plan)})
        if not faults.omit_done:
            await event("[DONE]")
        await send({"type": "http.response.body", "body": b""})


@dataclass
class _Choice:
    index: int
    tokens: list[str]
    finish_reason: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


def _plan(body: dict[str, Any]) -> list[_Choice]:
    messages = body.get("messages", [])
    user = next((_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    stops = body.get("stop") or []
    stops = [stops] if isinstance(stops, str) else stops
    tool = _chosen_tool(body, user)
    plan = []
    for index in range(int(body.get("n") or 1)):
        if tool is not None:
            arguments = json.dumps({"texte": user}, ensure_ascii=False)
            call = {
                "id": f"call_{index}",
                "type": "function",
                "function": {"name": tool, "arguments": arguments},
            }
            plan.append(_Choice(index, [], "tool_calls", [call]))
            continue
        text = _formatted(body.get("response_format"), user) or fake_reply(user, index=index, seed=body.get("seed"))
        finish = "stop"
        cut = min((text.find(s) for s in stops if s and s in text), default=-1)
        if cut >= 0:
            text = text[:cut]
        tokens = fake_tokens(text)
        if limit is not None and len(tokens) > int(limit):
            tokens, finish = tokens[: int(limit)], "length"
        plan.append(_Choice(index, tokens, finish))
    return plan


def _formatted(response_format: Any, user: str) -> str | None:
    """The JSON answer a ``response_format`` asks for (None: free text)."""
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_object":
        return json.dumps({"reponse": fake_reply(user)}, ensure_ascii=False)
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return json.dumps(schema_instance(schema, user), ensure_ascii=False)
    return None


def schema_instance(schema: dict[str, Any], text: str, *, root: dict[str, Any] | None = None) -> Any:
    """The fake's instance of a JSON schema (see the module docstring); follows local ``$ref`` and ``anyOf``."""
    root = root if root is not None else schema
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        return schema_instance(target, text, root=root)
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"] or schema["anyOf"]
        return schema_instance(options[0], text, root=root)
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: schema_instance(sub, text, root=root) for name, sub in properties.items()}
    if kind == "array":
        return [schema_instance(schema.get("items") or {"type": "string"}, text, root=root)]
    if kind == "integer":
        return len(text.split())
    if kind == "number":
        return float(len(text.split()))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return text


def _chosen_tool(body: dict[str, Any], user: str) -> str | None:
    tools = [t["function"]["name"] for t in body.get("tools") or [] if t.get("type") == "function"]
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none":
        return None
    if isinstance(choice, dict):
        return str(choice["function"]["name"])
    if choice == "required":
        return str(tools[0])
    return next((name for name in tools if name in user), None)


def _full_response(body: dict[str, Any], plan: list[_Choice]) -> dict[str, Any]:
    choices = []
    for choice in plan:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(choice.tokens) or None}
        if choice.tool_calls:
            message["tool_calls"] = choice.tool_calls
        logprobs = {"content": [_logprob(t) for t in choice.tokens]} if body.get("logprobs") else None
        choices.append(
            {
                "index": choice.index,
                "message": message,
                "finish_reason": choice.finish_reason,
                "logprobs": logprobs,
            }
        )
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": choices,
        "usage": _usage(body, plan),
    }


def _usage(body: dict[str, Any], plan: list[_Choice]) -> dict[str, int]:
    prompt = sum(len(fake_tokens(_text(m))) for m in body.get("messages", []))
    completion = sum(len(c.tokens) + (1 if c.tool_calls else 0) for c in plan)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _logprob(token: str) -> dict[str, Any]:
    value = -(int(hashlib.sha256(token.encode()).hexdigest()[:4], 16) % 1000) / 1000
    return {"token": token, "logprob": value, "bytes": list(token.encode()), "top_logprobs": []}


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


def _hash_vector(text: str, size: int) -> list[float]:
    vector = [0.0] * size
    for token in text.lower().split():
        digest = hashlib.sha256(token.encode()).digest()
        vector[int.from_bytes(digest[:4], "big") % size] += 1.0 if digest[4] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})


def closed_port_url() -> str:
    """A ``/v1`` base URL on a loopback port that was free a moment ago and has no listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
