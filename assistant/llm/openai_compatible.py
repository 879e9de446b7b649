"""Backend for any OpenAI-compatible chat server: vLLM in production, or another sovereign provider.

Resilience, in the order a request meets it:

- a circuit breaker per backend (``purgatory``): after ``breaker_threshold`` consecutive upstream failures
  requests fail fast for ``breaker_ttl`` seconds, then one attempt is let through (half-open);
- retries (``tenacity``) only while nothing has been received: connection failures and 502/503 answers.
  Once the status line arrived, the server is generating and a retry would double its load;
- deadlines: ``connect_timeout``; ``first_token_timeout`` from sending until the first generated token;
  ``idle_timeout`` between two chunks afterwards; ``total_timeout`` for the whole answer.

The upstream is always called in streaming mode, so a full answer and a stream share one code path and a
failure half-way still yields the partial text (carried by the raised :class:`UpstreamError`).

The transport is aiohttp (C HTTP parser): measured on 2 cores against the fake vLLM, opening a stream and reading
its first event costs 0.5 ms of CPU with it against 1.4 ms with httpx, on the path before every first token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, FilePath, SecretStr, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from assistant.llm._base import BackendHealth, ChatBackend
from assistant.llm._sse import NotAnEventStreamError, iter_sse_data
from assistant.llm._types import ChatChunk, ChatRequest, ChoiceDelta, Message, Usage, _Assembler
from assistant.llm.errors import (
    UpstreamBadResponseError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from assistant.telemetry import trace_stream, upstream_call

__all__ = ["OpenAICompatibleBackend", "register_backends"]

logger = logging.getLogger(__name__)

_RETRYABLE_STATUSES = frozenset({502, 503})
# Only these mean "the model server is unwell"; a 4xx or a client going away must not open the circuit.
_BREAKER_FAILURES = (UpstreamUnavailableError, UpstreamTimeoutError, UpstreamBadResponseError)


class _RetryableStatusError(Exception):
    """Internal: a 502/503 before any byte of body, worth another attempt."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


class _WireDelta(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str | None = None
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class _WireChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    index: int = 0
    delta: _WireDelta = Field(default_factory=_WireDelta)
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None
    # vLLM sends the stop string or token id here; the embedded server sends "repetition".
    stop_reason: str | int | None = None


class _WireUsage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _WireChunk(BaseModel):
    model_config = ConfigDict(extra="ignore")
    choices: list[_WireChoice] = Field(default_factory=list)
    usage: _WireUsage | None = None
    error: dict[str, Any] | None = None


class OpenAICompatibleBackend(ChatBackend):
    """Chat over HTTP with an OpenAI-compatible server (``/v1/chat/completions`` with SSE streaming)."""

    kind: ClassVar[str] = "openai"
    can_stream: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = True

    class Options(ChatBackend.Options):
        """Connection settings; ``base_url`` ends with the API prefix, e.g. ``http://vllm:8000/v1``."""

        base_url: AnyHttpUrl
        api_key: SecretStr | None = None
        api_key_file: FilePath | None = Field(
            default=None, description="File holding the key (a mounted Kubernetes Secret); wins over api_key."
        )
        headers: dict[str, str] = Field(default_factory=dict)
        connect_timeout: float = Field(default=5.0, gt=0)
        first_token_timeout: float = Field(default=60.0, gt=0)
        idle_timeout: float = Field(default=60.0, gt=0)
        total_timeout: float = Field(default=600.0, gt=0)
        max_retries: int = Field(default=2, ge=0)
        retry_backoff: float = Field(default=0.2, ge=0)
        max_connections: int = Field(default=64, ge=1)
        breaker_threshold: int = Field(default=5, ge=1)
        breaker_ttl: float = Field(default=30.0, gt=0)
        use_tokenize_endpoint: bool = Field(
            default=False, description="Count tokens with vLLM's /tokenize instead of an estimate."
        )

    options: Options

    def __init__(self, options: OpenAICompatibleBackend.Options) -> None:
        super().__init__(options)
        base_url = str(options.base_url).rstrip("/") + "/"
        headers = dict(options.headers)
        api_key = options.api_key.get_secret_value() if options.api_key is not None else None
        if options.api_key_file is not None:
            api_key = options.api_key_file.read_text(encoding="utf-8").strip()
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._base_url = base_url
        self._headers = headers
        # Our own deadlines are tighter; these only bound a connection (pool wait included) and a stray read.
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=options.connect_timeout,
            sock_read=max(options.first_token_timeout, options.idle_timeout),
        )
        # Opened on first use, in the event loop that uses it (aiohttp sessions belong to one loop).
        self._session: aiohttp.ClientSession | None = None
        self._circuit = f"llm:{base_url}"
        # Computed once: rebuilding it parsed a URL for every streamed chunk, the largest single cost per token.
        self._display_url = _without_credentials(base_url).rstrip("/")
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=options.breaker_threshold,
            default_ttl=options.breaker_ttl,
            exclude=[(BaseException, _not_a_backend_failure)],
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=self.options.max_connections, limit_per_host=0),
                # As before with httpx: HTTP(S)_PROXY / NO_PROXY and the system's CA bundle apply.
                trust_env=True,
            )
        return self._session

    @property
    def display_url(self) -> str:
        """Base URL without credentials, for logs and messages."""
        return self._display_url

    async def circuit_state(self) -> str:
        """``closed``, ``opened`` or ``half-opened``: exposed for health reports and tests."""
        breaker = await self._breakers.get_breaker(self._circuit)
        return breaker.context.state

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Stream the completion; see the module docstring for retries, deadlines and the breaker."""
        # The gateway span, when traces are on (the stream itself when off, or under a replica pool's span).
        return trace_stream(
            self._stream(request), model=request.model, backend_kind=self.kind, priority=request.priority
        )

    async def _stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        total_deadline = start + self.options.total_timeout
        first_deadline = min(total_deadline, start + self.options.first_token_timeout)
        assembler = _Assembler()
        try:
            breaker = await self._breakers.get_breaker(self._circuit)
            async with breaker:
                # The client span: its W3C traceparent goes to vLLM with the request (nothing when traces are off).
                with upstream_call("POST", f"{self._display_url}/chat/completions") as call:
                    response = await self._open(_request_body(request), deadline=first_deadline, headers=call.headers)
                    call.responded(response.status)
                    finished = False
                    try:
                        async for chunk in self._read(response, first_deadline, total_deadline):
                            assembler.add(chunk)
                            yield chunk
                        finished = True
                    finally:
                        # A stream left unfinished closes its connection, so that the server stops generating;
                        # a finished one goes back to the pool.
                        if finished:
                            response.release()
                        else:
                            response.close()
        except OpenedState as exc:
            raise UpstreamUnavailableError(
                f"Le serveur de modèle {self.display_url} est indisponible après plusieurs échecs ; "
                f"nouvel essai possible dans moins de {self.options.breaker_ttl:g} s."
            ) from exc
        except UpstreamError as exc:
            exc.partial = assembler.result()
            raise

    async def _open(self, body: dict[str, Any], *, deadline: float, headers: dict[str, str]) -> aiohttp.ClientResponse:
        """Send the request, retrying only while no byte came back; return a 200 streaming response."""
        url = self._base_url + "chat/completions"
        payload = json.dumps(body, ensure_ascii=False).encode()
        sent_headers = {"Content-Type": "application/json", **headers}
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.options.max_retries + 1),
            # Full jitter, so replicas that lost the same server do not come back in step.
            wait=wait_random_exponential(multiplier=self.options.retry_backoff, max=5.0),
            retry=retry_if_exception_type(
                (
                    aiohttp.ClientConnectorError,
                    aiohttp.ConnectionTimeoutError,
                    aiohttp.ServerDisconnectedError,
                    _RetryableStatusError,
                )
            ),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            async with asyncio.timeout_at(deadline):
                async for attempt in retrying:
                    with attempt:
                        response = await self._client().post(url, data=payload, headers=sent_headers)
                        if response.status in _RETRYABLE_STATUSES:
                            raise _RetryableStatusError(response.status, await _error_detail(response))
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Before TimeoutError: aiohttp's connection timeout is one.
            raise UpstreamUnavailableError(
                f"Le serveur de modèle {self.display_url} est injoignable ({type(exc).__name__}). "
                "Vérifiez qu'il est démarré ou contactez l'exploitation."
            ) from exc
        except TimeoutError as exc:
            raise UpstreamTimeoutError(
                f"Le serveur de modèle {self.display_url} n'a pas commencé à répondre en "
                f"{self.options.first_token_timeout:g} s. Réessayez plus tard ou raccourcissez la demande."
            ) from exc
        except _RetryableStatusError as exc:
            raise _status_error(exc.status_code, exc.detail, self.display_url) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailableError(
                f"La connexion au serveur de modèle {self.display_url} a échoué : {type(exc).__name__}."
            ) from exc
        if response.status != 200:
            raise _status_error(response.status, await _error_detail(response), self.display_url)
        return response

    async def _read(
        self, response: aiohttp.ClientResponse, first_deadline: float, total_deadline: float
    ) -> AsyncIterator[ChatChunk]:
        loop = asyncio.get_running_loop()
        started = False
        finished_choices: set[int] = set()
        seen_choices: set[int] = set()
        try:
            async with aclosing(iter_sse_data(response)) as events:
                while True:
                    deadline = (
                        min(total_deadline, loop.time() + self.options.idle_timeout) if started else first_deadline
                    )
                    try:
                        async with asyncio.timeout_at(deadline):
                            data = await anext(events)
                    except StopAsyncIteration:
                        break
                    if data.strip() == "[DONE]":
                        return
                    chunk = _parse_chunk(data, self._display_url)
                    for delta in chunk.deltas:
                        seen_choices.add(delta.index)
                        started = started or bool(delta.text or delta.tool_calls)
                        if delta.finish_reason is not None:
                            finished_choices.add(delta.index)
                    yield chunk
        except TimeoutError as exc:
            phase = "pendant la génération" if started else "avant le premier mot"
            raise UpstreamTimeoutError(
                f"Le serveur de modèle {self.display_url} s'est tu trop longtemps {phase}."
            ) from exc
        except NotAnEventStreamError as exc:
            raise UpstreamBadResponseError(
                f"Le serveur de modèle {self.display_url} n'a pas répondu en flux SSE : {exc}."
            ) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamBadResponseError(
                f"Le serveur de modèle {self.display_url} a interrompu sa réponse ({type(exc).__name__}). "
                "Le début de la réponse est conservé ; relancez la demande."
            ) from exc
        # Some servers omit [DONE]; a stream whose choices all finished is complete all the same.
        if not seen_choices or seen_choices - finished_choices:
            raise UpstreamBadResponseError(
                f"Le flux du serveur de modèle {self.display_url} s'est arrêté avant la fin de la réponse."
            )

    def _log_retry(self, state: RetryCallState) -> None:
        outcome = state.outcome.exception() if state.outcome is not None else None
        logger.warning(
            "Upstream %s: attempt %d failed before the first byte (%s); retrying",
            self.display_url,
            state.attempt_number,
            type(outcome).__name__,
        )

    async def health(self) -> BackendHealth:
        """GET ``/models``: any OpenAI-compatible server has it, and it proves the API answers."""
        started = time.perf_counter()
        try:
            async with self._client().get(
                self._base_url + "models", timeout=aiohttp.ClientTimeout(total=self.options.connect_timeout)
            ) as response:
                response.raise_for_status()
                json.loads(await response.read())
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            return BackendHealth(status="down", detail=f"{self.display_url} : injoignable ({type(exc).__name__})")
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            return BackendHealth(status="down", detail=f"{self.display_url} : {type(exc).__name__}")
        latency = (time.perf_counter() - started) * 1000
        state = await self.circuit_state()
        if state != "closed":
            return BackendHealth(status="degraded", detail=f"disjoncteur {state}", latency_ms=latency)
        return BackendHealth(status="ok", latency_ms=latency)

    async def count_tokens(self, messages: list[Message], *, model: str) -> int:
        """Exact count with vLLM's ``/tokenize`` when enabled, else the base estimate."""
        if self.options.use_tokenize_endpoint:
            url = _server_root(self._base_url) + "tokenize"
            try:
                async with self._client().post(
                    url,
                    json={"model": model, "messages": messages},
                    timeout=aiohttp.ClientTimeout(total=self.options.connect_timeout),
                ) as response:
                    response.raise_for_status()
                    return int(json.loads(await response.read())["count"])
            except (aiohttp.ClientError, TimeoutError, KeyError, TypeError, ValueError) as exc:
                logger.info("Token count via %s failed (%s); using an estimate", url, type(exc).__name__)
        return await super().count_tokens(messages, model=model)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _not_a_backend_failure(exc: BaseException) -> bool:
    return not isinstance(exc, _BREAKER_FAILURES)


def _request_body(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "messages": request.messages}
    body.update(request.params.to_wire())
    if request.user is not None:
        body["user"] = request.user
    # Always stream upstream, with usage, whatever the caller asked: see the module docstring.
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    return body


def _parse_chunk(data: str, url: str) -> ChatChunk:
    try:
        wire = _WireChunk.model_validate_json(data)
    except ValidationError as exc:
        raise UpstreamBadResponseError(
            f"Le serveur de modèle {url} a envoyé un fragment illisible ({exc.error_count()} erreur(s))."
        ) from exc
    if wire.error is not None:
        raise UpstreamBadResponseError(
            f"Le serveur de modèle {url} a signalé une erreur en cours de génération : "
            f"{wire.error.get('message', wire.error)}"
        )
    deltas = tuple(
        ChoiceDelta(
            index=choice.index,
            text=choice.delta.content or "",
            role=choice.delta.role,
            tool_calls=choice.delta.tool_calls,
            finish_reason=choice.finish_reason,
            logprobs=choice.logprobs,
            stop_reason=None if choice.stop_reason is None else str(choice.stop_reason),
        )
        for choice in wire.choices
    )
    usage = None
    if wire.usage is not None:
        usage = Usage(prompt_tokens=wire.usage.prompt_tokens, completion_tokens=wire.usage.completion_tokens)
    return ChatChunk(deltas=deltas, usage=usage)


def _without_credentials(url: str) -> str:
    """``url`` without a user or password, for logs and messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


def _server_root(url: str) -> str:
    """The server's root (vLLM's /tokenize is beside /v1, not under it)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


async def _error_detail(response: aiohttp.ClientResponse) -> str:
    """The server's error message (OpenAI envelope or raw text), body consumed and connection released."""
    try:
        raw = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        return ""
    finally:
        response.release()
    try:
        payload = json.loads(raw)
        if isinstance(payload, dict):
            error = payload.get("error", payload)
            if isinstance(error, dict):
                return str(error.get("message") or error.get("detail") or error)
            return str(error)
    except ValueError:
        pass
    return raw.decode("utf-8", "replace")[:500]


def _status_error(status: int, detail: str, url: str) -> UpstreamError | UpstreamRejectedError:
    suffix = f" Détail : {detail}" if detail else ""
    if status in (429, 503):
        return UpstreamUnavailableError(f"Le serveur de modèle {url} est surchargé (HTTP {status}).{suffix}")
    if status == 504:
        return UpstreamTimeoutError(f"Le serveur de modèle {url} a dépassé son délai (HTTP 504).{suffix}")
    if status in (400, 413, 422):
        return UpstreamRejectedError(
            f"Le serveur de modèle a refusé la demande (HTTP {status}).{suffix}",
            status_code=status,
            upstream_message=detail,
        )
    if status in (401, 403, 404):
        return UpstreamBadResponseError(
            f"Le serveur de modèle {url} refuse la passerelle (HTTP {status}) : vérifiez la clé d'API et le "
            f"nom du modèle amont dans SOUVERAIN_LLM_BACKENDS.{suffix}"
        )
    return UpstreamBadResponseError(f"Le serveur de modèle {url} a répondu HTTP {status}.{suffix}")


def register_backends(register: Callable[[type[ChatBackend]], None]) -> None:
    """Plugin hook: make the ``openai`` kind available to the registry."""
    register(OpenAICompatibleBackend)
