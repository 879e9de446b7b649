"""What a batch line costs compared with the same request sent to ``/v1/chat/completions``: lines per second through
the ``batches.run`` job (in-process runtime, SQLite, one worker slot) against the same requests made one after the
other through the gateway directly.

Usage: python benchmarks/batch_throughput.py [--lines 200]

Everything listens on 127.0.0.1 (the fake vLLM-protocol server of tests/fakes, unpaced) and stops by itself. The
per-line overhead is the bookkeeping of a batch line: its result and counts committed on their own, the quota count
drained before the next line, the cancellation check.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.audit import ClientInfo
from assistant.jobs import JobRunner
from assistant.protocol.batches import BatchCreateRequest
from assistant.protocol.chat import ChatCompletionRequest
from assistant.runtime import open_runtime
from assistant.security import Principal, permissions_for
from assistant.services.batch import batches as batch_service
from assistant.services.batch import files as file_service
from assistant.services.batch._ids import parse_batch_id
from assistant.services.gateway.chat_completions import create_chat_completion
from assistant.services.identity.users import create_local_user
from assistant.store import batches as batch_store
from assistant.store.models import Role
from tests.assistant.batch.helpers import chat_line, jsonl
from tests.factories import make_settings, upstream_backend
from tests.fakes.openai_upstream import FakeUpstream

CLIENT = ClientInfo(ip="127.0.0.1", user_agent="benchmark", request_id="bench")


async def _run(lines: int, url: str, data_dir: Path) -> list[tuple[str, float, float]]:
    settings = make_settings(
        data_dir=data_dir,
        llm_backends=[upstream_backend(url)],
        run_worker_in_process=False,
        default_tokens_per_day=10**9,
    )
    async with open_runtime(settings, with_worker=False) as runtime:
        user = await create_local_user(runtime, username="bench", role=Role.AGENT, password=None)
        principal = Principal(user.id, user.username, Role.AGENT, "session", permissions_for(Role.AGENT))
        questions = [f"Question {n} sur les congés des agents publics" for n in range(lines)]
        began = time.perf_counter()
        for question in questions:
            request = ChatCompletionRequest.model_validate(chat_line("x", question)["body"])
            await create_chat_completion(runtime, request, principal=principal, client=CLIENT)
        direct = time.perf_counter() - began
        content = jsonl([chat_line(f"c{n}", q) for n, q in enumerate(questions)])
        uploaded = await file_service.upload_file(
            runtime, principal=principal, client=CLIENT, source=io.BytesIO(content), filename="b.jsonl", purpose="batch"
        )
        body = BatchCreateRequest(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
        created = await batch_service.create_batch(runtime, principal=principal, client=CLIENT, body=body)
        async with runtime.session_factory() as session:
            row = await batch_store.get_batch(session=session, batch_id=parse_batch_id(created.id))
        assert row is not None and row.job_id is not None
        runner = JobRunner(
            session_factory=runtime.session_factory,
            registry=runtime.job_registry,
            worker_id="bench",
            lease=timedelta(seconds=60),
        )
        began = time.perf_counter()
        await runner.run(row.job_id)
        batched = time.perf_counter() - began
        done = await batch_service.get_batch(runtime, principal=principal, public_id=created.id)
        assert done.status == "completed" and done.request_counts.completed == lines, done
    return [("direct /v1/chat/completions", direct, lines / direct), ("batch (batches.run)", batched, lines / batched)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200)
    args = parser.parse_args()
    with FakeUpstream() as upstream, tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(_run(args.lines, upstream.url, Path(tmp)))
    sys.stdout.write(
        f"{args.lines} requests, one at a time\n\n| path | total s | requests/s | ms/request |\n|---|---|---|---|\n"
    )
    for name, seconds, rate in rows:
        sys.stdout.write(f"| {name} | {seconds:.2f} | {rate:.1f} | {1000 * seconds / args.lines:.1f} |\n")


if __name__ == "__main__":
    main()
