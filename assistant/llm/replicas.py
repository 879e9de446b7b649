"""Several replicas of one model behind one backend: least-outstanding balancing, failover before the first byte,
passive ejection of failing replicas with re-admission, and active health checks.

A ministry runs a model as N vLLM servers on several GPU nodes; the pool is one ``ChatBackend`` (kind
``replicas``) so the registry, the gateway and the provenance see one model::

    {"name": "mistral", "kind": "replicas", "options": {"replicas": [
        {"base_url": "http://vllm-0.vllm:8000/v1", "weight": 2},
        {"base_url": "http://vllm-1.vllm:8000/v1"}]}, "models": [{"id": "mistral-small"}]}

Each request goes to the replica with the fewest requests in flight relative to its weight. A replica that fails
before sending its first byte (refused connection, 5xx, 429/503, timeout to the first token) is skipped and the
next one tried, so a dead node costs a request nothing; after the first byte the failure is the caller's
(retrying would repeat what the user already saw). ``eject_after`` consecutive failures eject a replica for
``eject_seconds``; the health loop probes ejected replicas and re-admits them as soon as they answer, and an
ejection that runs out lets one request through again.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import Field

from assistant.llm._base import BackendHealth, ChatBackend
from assistant.llm._types import ChatChunk, ChatRequest, Message
from assistant.llm.errors import UpstreamError, UpstreamSaturatedError, UpstreamUnavailableError
from assistant.llm.openai_compatible import OpenAICompatibleBackend
from assistant.telemetry import note_replica, trace_stream

__all__ = ["ReplicaPoolBackend", "ReplicaState", "register_backends"]

logger = logging.getLogger(__name__)


class ReplicaOptions(OpenAICompatibleBackend.Options):
    """One replica: an OpenAI-compatible server, with its share of the traffic."""

    name: str | None = Field(default=None, max_length=100, description="Nom affiché (défaut : l'adresse).")
    max_concurrency: int | None = Field(
        default=None, ge=1, description="Requêtes simultanées au plus (vLLM --max-num-seqs) ; au-delà, file d'attente."
    )
    weight: float = Field(default=1.0, gt=0, description="Part relative du trafic (un nœud deux fois plus gros : 2).")
    # The pool fails over to another replica instead: retrying the same one first only delays the user.
    max_retries: int = Field(default=0, ge=0)
    # Short, so that a restarted node takes traffic again within seconds (the pool's ejection does the rest).
    breaker_ttl: float = Field(default=5.0, gt=0)


@dataclass
class ReplicaState:
    """What the pool knows of one replica (shown in /readyz and the metrics)."""

    name: str
    url: str
    weight: float
    max_concurrency: int | None = None
    outstanding: int = 0
    served: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    ejected_until: float | None = None
    last_error: str | None = None
    backend: OpenAICompatibleBackend = field(repr=False, default=None)  # type: ignore[assignment]

    @property
    def full(self) -> bool:
        return self.max_concurrency is not None and self.outstanding >= self.max_concurrency

    def ejected(self, now: float) -> bool:
        return self.ejected_until is not None and now < self.ejected_until

    @property
    def state_label(self) -> str:
        """How the admin page describes it (on the service's own clock)."""
        return "Écarté après des échecs" if self.ejected(time.monotonic()) else "En service"


class ReplicaPoolBackend(ChatBackend):
    """One model served by several OpenAI-compatible replicas (see the module docstring)."""

    kind: ClassVar[str] = "replicas"
    can_stream: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = True

    class Options(ChatBackend.Options):
        replicas: list[ReplicaOptions] = Field(min_length=1, max_length=64)
        eject_after: int = Field(default=3, ge=1, description="Échecs consécutifs avant d'écarter un réplica.")
        eject_seconds: float = Field(default=15.0, gt=0, description="Durée d'écartement d'un réplica en échec.")
        health_interval: float = Field(default=5.0, gt=0, description="Sondage des réplicas écartés (secondes).")
        max_queue: int = Field(default=200, ge=0, description="Requêtes en attente au plus quand tout est plein.")
        queue_timeout: float = Field(default=30.0, gt=0, description="Attente au plus avant un 503 (secondes).")

    options: Options

    def __init__(self, options: ReplicaPoolBackend.Options, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(options)
        self._clock = clock
        self.replicas: list[ReplicaState] = []
        for index, replica in enumerate(options.replicas):
            backend = OpenAICompatibleBackend(
                OpenAICompatibleBackend.Options.model_validate(
                    replica.model_dump(exclude={"name", "weight", "max_concurrency"})
                )
            )
            self.replicas.append(
                ReplicaState(
                    name=replica.name or f"réplica {index + 1}",
                    url=backend.display_url,
                    weight=replica.weight,
                    max_concurrency=replica.max_concurrency,
                    backend=backend,
                )
            )
        self._probe: asyncio.Task[None] | None = None
        self._turn = 0
        # Requests waiting for a free slot: (-priority, arrival, future) — highest priority first, then FIFO.
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._reserved = 0

    # ---- choosing ------------------------------------------------------------------------------------------

    def _candidates(self, tried: set[int]) -> list[int]:
        now = self._clock()
        admitted = [i for i, r in enumerate(self.replicas) if i not in tried and not r.ejected(now) and not r.full]
        if admitted:
            return admitted
        # Every replica is ejected: better to try the one back soonest than to refuse outright.
        waiting = [i for i, r in enumerate(self.replicas) if i not in tried and not r.full]
        return sorted(waiting, key=lambda i: self.replicas[i].ejected_until or 0.0)[:1]

    def _pick(self, tried: set[int]) -> int | None:
        candidates = self._candidates(tried)
        if not candidates:
            return None
        load = {i: (self.replicas[i].outstanding + 1) / self.replicas[i].weight for i in candidates}
        least = min(load.values())
        # Ties go round the replicas, so that idle ones share the requests instead of the first one taking all.
        tied = [i for i in candidates if load[i] == least]
        self._turn += 1
        return tied[self._turn % len(tied)]

    def _failed(self, replica: ReplicaState, exc: BaseException) -> None:
        replica.failures += 1
        replica.consecutive_failures += 1
        replica.last_error = type(exc).__name__
        if replica.consecutive_failures >= self.options.eject_after and not replica.ejected(self._clock()):
            replica.ejected_until = self._clock() + self.options.eject_seconds
            logger.warning(
                "Replica %s (%s) ejected for %.0f s after %d failures",
                replica.name,
                replica.url,
                self.options.eject_seconds,
                replica.consecutive_failures,
            )

    def _succeeded(self, replica: ReplicaState) -> None:
        replica.served += 1
        replica.consecutive_failures = 0
        if replica.ejected_until is not None:
            logger.info("Replica %s (%s) re-admitted", replica.name, replica.url)
        replica.ejected_until = None
        replica.last_error = None

    # ---- serving -------------------------------------------------------------------------------------------

    def _free_slots(self) -> float:
        """Free slots over the replicas, less those promised to woken waiters (unlimited replicas: infinite)."""
        if any(replica.max_concurrency is None for replica in self.replicas):
            return float("inf")
        free = sum(max(0, (r.max_concurrency or 0) - r.outstanding) for r in self.replicas)
        return free - self._reserved

    async def _wait_for_room(self, priority: int) -> bool:
        """Wait, in priority order, until a replica has a free slot; 503 with Retry-After past the bounds.

        Returns True when a slot was reserved for this request (it must :meth:`_claim` it once it picked one).
        """
        if self._free_slots() > 0 and not self._waiting:
            return False
        if len(self._waiting) >= self.options.max_queue:
            raise UpstreamSaturatedError(
                f"Le modèle est saturé : {len(self._waiting)} demandes attendent déjà. Réessayez dans un instant.",
                retry_after=max(1, round(self.options.queue_timeout / 4)),
            )
        ticket: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (-priority, next(self._arrivals), ticket)
        heapq.heappush(self._waiting, entry)
        self._wake()
        try:
            await asyncio.wait_for(asyncio.shield(ticket), timeout=self.options.queue_timeout)
            return True
        except TimeoutError:
            if entry in self._waiting:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
            if ticket.done() and not ticket.cancelled():
                self._reserved -= 1  # woken just as the wait ran out: give the slot back
                self._wake()
            else:
                ticket.cancel()
            raise UpstreamSaturatedError(
                f"Le modèle est saturé : pas de place libérée en {self.options.queue_timeout:g} s. "
                "Réessayez dans un instant.",
                retry_after=max(1, round(self.options.queue_timeout / 4)),
            ) from None
        except asyncio.CancelledError:
            if entry in self._waiting:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
            elif ticket.done() and not ticket.cancelled():
                self._reserved -= 1
                self._wake()
            raise

    def _wake(self) -> None:
        """Promise free slots to the first waiters; each woken request claims its slot when it picks a replica."""
        while self._waiting and self._free_slots() > 0:
            _, _, ticket = heapq.heappop(self._waiting)
            if not ticket.done():
                ticket.set_result(None)
                self._reserved += 1

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        # One gateway span for the pool (its replicas open none of their own), when traces are on.
        return trace_stream(
            self._stream(request), model=request.model, backend_kind=self.kind, priority=request.priority
        )

    async def _stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        reserved = await self._wait_for_room(request.priority)
        tried: set[int] = set()
        last: UpstreamError | None = None
        while (index := self._pick(tried)) is not None:
            tried.add(index)
            replica = self.replicas[index]
            note_replica(replica.name)
            replica.outstanding += 1
            if reserved:
                self._reserved -= 1  # the promised slot is now this replica's
                reserved = False
            started = False
            try:
                async with aclosing(replica.backend.stream(request)) as chunks:
                    async for chunk in chunks:
                        started = True
                        yield chunk
                self._succeeded(replica)
                return
            except UpstreamError as exc:
                self._failed(replica, exc)
                if started:
                    raise
                logger.warning("Replica %s failed before its first byte (%s); trying another", replica.name, exc)
                last = exc
            finally:
                replica.outstanding -= 1
                self._wake()
        if reserved:
            self._reserved -= 1
            self._wake()
        names = ", ".join(r.name for r in self.replicas)
        raise UpstreamUnavailableError(
            f"Aucun réplica du modèle n'a pu répondre ({names}) : {last.message if last else 'aucun disponible'}."
        )

    async def count_tokens(self, messages: list[Message], *, model: str) -> int:
        index = self._pick(set())
        backend = self.replicas[index if index is not None else 0].backend
        return await backend.count_tokens(messages, model=model)

    # ---- health --------------------------------------------------------------------------------------------

    async def health(self) -> BackendHealth:
        """Every replica probed; ``ok`` when all answer, ``degraded`` while some do, ``down`` when none does."""
        results = await asyncio.gather(*(replica.backend.health() for replica in self.replicas))
        now = self._clock()
        parts = []
        up = 0
        for replica, result in zip(self.replicas, results, strict=True):
            state = result.status
            if result.status == "ok" and replica.ejected(now):
                state = "écarté"
            if result.status == "ok":
                up += 1
            parts.append(f"{replica.name} : {state}, {replica.outstanding} en cours")
        status = "ok" if up == len(self.replicas) else ("degraded" if up else "down")
        latencies = [r.latency_ms for r in results if r.latency_ms is not None]
        return BackendHealth(status=status, detail=" ; ".join(parts), latency_ms=min(latencies) if latencies else None)

    async def _probe_ejected(self) -> None:
        while True:
            await asyncio.sleep(self.options.health_interval)
            now = self._clock()
            for replica in self.replicas:
                if replica.ejected(now) and (await replica.backend.health()).status == "ok":
                    self._succeeded(replica)

    async def start(self) -> None:
        if self._probe is None:
            self._probe = asyncio.create_task(self._probe_ejected(), name="replica-health")

    async def aclose(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        await asyncio.gather(*(replica.backend.aclose() for replica in self.replicas))


def register_backends(register: Callable[[type[ChatBackend]], None]) -> None:
    """Plugin hook: make the ``replicas`` kind available to the registry."""
    register(ReplicaPoolBackend)
