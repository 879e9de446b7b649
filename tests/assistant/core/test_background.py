"""Deferred bookkeeping writes: retried, never dropped, drained at shutdown, bounded."""

from __future__ import annotations

import asyncio
import logging

import pytest

from assistant.core.background import BackgroundWrites


class Flaky:
    """A write that fails ``failures`` times before it succeeds."""

    def __init__(self, failures: int = 0, *, delay: float = 0.0) -> None:
        self.failures = failures
        self.delay = delay
        self.calls = 0
        self.done = 0

    async def __call__(self) -> None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.calls <= self.failures:
            raise RuntimeError(f"panne {self.calls}")
        self.done += 1


async def test_a_failing_write_is_retried_until_it_succeeds() -> None:
    writes = BackgroundWrites(attempts=5, backoff_seconds=0.001)
    write = Flaky(failures=3)
    await writes.submit("usage record", write)
    await writes.drain()
    assert (write.calls, write.done) == (4, 1)
    await writes.aclose()


async def test_a_write_that_keeps_failing_is_logged_as_lost(caplog: pytest.LogCaptureFixture) -> None:
    writes = BackgroundWrites(attempts=3, backoff_seconds=0.001)
    write = Flaky(failures=10)
    with caplog.at_level(logging.WARNING, logger="assistant.core.background"):
        await writes.submit("usage record", write)
        await writes.drain()
    assert write.calls == 3 and write.done == 0
    assert any("usage record lost after 3 attempts" in r.getMessage() for r in caplog.records)
    following = Flaky()
    await writes.submit("next", following)
    await writes.drain()
    assert following.done == 1, "a lost write does not stop the workers"
    await writes.aclose()


async def test_submit_returns_at_once_and_close_writes_everything_queued() -> None:
    writes = BackgroundWrites(concurrency=2, backoff_seconds=0.001)
    slow = [Flaky(failures=1, delay=0.05) for _ in range(6)]
    started = asyncio.get_running_loop().time()
    for write in slow:
        await writes.submit("slow", write)
    assert asyncio.get_running_loop().time() - started < 0.05, "the caller does not wait for the writes"
    assert writes.pending > 0
    await writes.aclose()
    assert [write.done for write in slow] == [1] * 6
    late = Flaky()
    await writes.submit("after close", late)
    assert late.done == 1, "after shutdown a write runs inline rather than being dropped"


async def test_a_full_queue_writes_inline_instead_of_dropping() -> None:
    writes = BackgroundWrites(concurrency=1, max_pending=2)
    blocker = asyncio.Event()

    async def blocked() -> None:
        await blocker.wait()

    await writes.submit("blocked", blocked)
    await asyncio.sleep(0)  # the worker takes it
    queued = [Flaky(), Flaky()]
    for write in queued:
        await writes.submit("queued", write)
    overflow = Flaky()
    await writes.submit("overflow", overflow)
    assert overflow.done == 1 and [write.done for write in queued] == [0, 0]
    blocker.set()
    await writes.aclose()
    assert [write.done for write in queued] == [1, 1]
