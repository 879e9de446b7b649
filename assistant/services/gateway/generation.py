"""Pieces shared by every product surface that generates text (conversations, document tasks, the gateway).

- :func:`check_sovereignty`: the routing rule of design §6, refusals audited;
- :func:`check_forbidden_uses`: the forbidden-use guard of the usage charter (warn, confirm, block), audited;
- :class:`Generation`: one streamed model call that remembers what it produced, even when cut short;
- :class:`Measure`: tokens, latency, energy and carbon, summed over the calls of one user-visible generation.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio

from assistant.audit import ClientInfo
from assistant.llm import ChatRequest, LLMError, Message, RegisteredModel, SamplingParams
from assistant.protocol.chat import Usage
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.sensitivity import Sensitivity, SovereigntyViolationError, assess, enforce_sovereignty
from assistant.services.gateway.energy import estimate_request_energy
from assistant.services.gateway.guard import check_forbidden_uses
from assistant.services.gateway.priority import PRIORITY_INTERACTIVE

__all__ = [
    "FixedAnswer",
    "Generation",
    "Measure",
    "audit_sovereignty_refusal",
    "check_forbidden_uses",
    "check_sovereignty",
    "parse_sensitivity",
]

logger = logging.getLogger(__name__)


def parse_sensitivity(value: str | None) -> Sensitivity | None:
    """The level a request declares ('public', 'internal', 'sensitive'); None when it declares none, which a
    non-sovereign model refuses (fail closed: only what the user declared public may leave)."""
    return Sensitivity[value.upper()] if value else None


async def check_sovereignty(
    runtime: Runtime,
    texts: Iterable[str],
    model: RegisteredModel,
    *,
    declared: Sensitivity | None,
    principal: Principal,
    client: ClientInfo,
    collections: Sensitivity = Sensitivity.PUBLIC,
) -> None:
    """Refuse (and audit the refusal) when internal or personal data would reach a non-sovereign model.

    ``collections`` is the highest classification of the document collections the request draws on.
    """
    if model.sovereign:
        return  # nothing to decide: skip the detector on the hot path of sovereign models
    assessment = assess(list(texts), declared=declared, collections=collections)
    try:
        enforce_sovereignty(assessment, model_id=model.id, sovereign=model.sovereign)
    except SovereigntyViolationError:
        details = {"level": assessment.level.label, "reasons": list(assessment.reasons)}
        await audit_sovereignty_refusal(runtime, principal, client, resource=("model", model.id), details=details)
        raise


async def audit_sovereignty_refusal(
    runtime: Runtime, principal: Principal, client: ClientInfo, *, resource: tuple[str, str], details: dict[str, Any]
) -> None:
    """The audit entry of every refusal to send data to a non-sovereign model (text, minutes or audio)."""
    resource_type, resource_id = resource
    await runtime.audit.record(
        category="audit",
        action="llm.sovereignty_refused",
        outcome="denied",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type=resource_type,
        resource_id=resource_id,
        client=client,
        details=details,
    )


def _estimate_tokens(text: str) -> int:
    # Same rule of thumb as ChatBackend.count_tokens: about four characters per token.
    return math.ceil(len(text) / 4)


@dataclass
class Measure:
    """What one or several model calls cost; :meth:`usage` gives the API's ``usage`` object."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_seconds: float = 0.0
    energy_wh: float = 0.0
    gco2e: float = 0.0
    method: str = ""
    calls: int = 0

    def add(self, other: Measure) -> None:
        """Add another call's measure to this one."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.latency_seconds += other.latency_seconds
        self.energy_wh += other.energy_wh
        self.gco2e += other.gco2e
        self.method = self.method or other.method
        self.calls += other.calls

    def usage(self) -> Usage:
        """The OpenAI ``usage`` object with our frugality extensions."""
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
            energy_wh=round(self.energy_wh, 6),
            gco2e=round(self.gco2e, 6),
            energy_method=self.method or None,
            latency_ms=round(self.latency_seconds * 1000, 1),
        )


@dataclass
class Generation:
    """One streamed call: iterate :meth:`deltas` for the text; afterwards read ``text``, ``error``, :meth:`measure`.

    Usage::

        generation = Generation(runtime, model, messages)
        async for piece in generation.deltas():
            ...
        generation.text, generation.finished, generation.measure()

    When the consumer stops early (client gone) or the model server fails, ``text`` keeps what came and
    ``finished`` stays false; a server failure is also kept in ``error`` (and re-raised).
    """

    runtime: Runtime
    model: RegisteredModel
    messages: list[Message]
    params: SamplingParams = field(default_factory=SamplingParams)
    # Pages are people waiting for an answer: they go before API scripts when a model is saturated.
    priority: int = PRIORITY_INTERACTIVE
    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    # The server's word on an early stop: "repetition" when the model was caught looping.
    stop_reason: str | None = None
    error: LLMError | None = None
    seconds: float = 0.0
    _reported: tuple[int, int] | None = None

    @property
    def text(self) -> str:
        """What the model produced so far (first choice)."""
        return "".join(self.parts)

    @property
    def finished(self) -> bool:
        """True once the model server ended the answer on its own."""
        return self.finish_reason is not None and self.error is None

    async def deltas(self) -> AsyncGenerator[str, None]:
        """Text pieces as the model produces them."""
        request = ChatRequest(
            model=self.model.upstream_name, messages=self.messages, params=self.params, priority=self.priority
        )
        began = time.perf_counter()
        chunks = self.model.backend.stream(request)
        try:
            async for chunk in chunks:
                if chunk.usage is not None:
                    self._reported = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for delta in chunk.deltas:
                    if delta.index != 0:
                        continue
                    if delta.finish_reason is not None:
                        self.finish_reason = delta.finish_reason
                    if delta.stop_reason is not None:
                        self.stop_reason = delta.stop_reason
                    if delta.text:
                        self.parts.append(delta.text)
                        yield delta.text
        except LLMError as exc:
            self.error = exc
            logger.warning("generation on %s failed after %d chars: %s", self.model.id, len(self.text), exc.code)
            raise
        finally:
            self.seconds = time.perf_counter() - began
            # Shielded: when a client disconnect cancelled us, the upstream stream must still be closed.
            with anyio.CancelScope(shield=True):
                await chunks.aclose()  # type: ignore[attr-defined]

    async def run(self) -> str:
        """The whole answer (for non-streamed use)."""
        async for _ in self.deltas():
            pass
        return self.text

    def measure(self) -> Measure:
        """Tokens as the server reported them (estimated when it did not, e.g. cut short), energy, carbon."""
        if self._reported is not None:
            prompt, completion = self._reported
        else:
            prompt = sum(_estimate_tokens(str(message.get("content") or "")) for message in self.messages)
            completion = _estimate_tokens(self.text)
        energy = estimate_request_energy(
            self.runtime.settings, self.model, output_tokens=completion, latency_seconds=self.seconds
        )
        return Measure(
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency_seconds=self.seconds,
            energy_wh=energy.energy_wh,
            gco2e=energy.gco2e,
            method=energy.method,
            calls=1,
        )


@dataclass
class FixedAnswer(Generation):
    """A deterministic answer that calls no model (a question the collections cannot answer), read like a call."""

    answer: str = ""

    async def deltas(self) -> AsyncGenerator[str, None]:
        self.parts.append(self.answer)
        self.finish_reason = "stop"
        self.stop_reason = "declined"
        self._reported = (0, 0)
        yield self.answer
