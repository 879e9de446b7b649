"""Closing a batch: its per-line results become the output file (answers) and the error file (failures).

Done in one transaction with the status change, so a batch is either still open or closed with both files; a
worker killed in the middle leaves it open, and the resumed job closes it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from assistant.runtime import Runtime
from assistant.services.batch._ids import batch_id
from assistant.store import batches as store
from assistant.store import utcnow
from assistant.store.models import BatchResult, BatchStatus

__all__ = ["OUTPUT_SUFFIX", "finalize", "jsonl"]

OUTPUT_SUFFIX = "_output.jsonl"
_ERRORS_SUFFIX = "_errors.jsonl"
_CLOSED_AT = {
    BatchStatus.COMPLETED: "completed_at",
    BatchStatus.CANCELLED: "cancelled_at",
    BatchStatus.EXPIRED: "expired_at",
    BatchStatus.FAILED: "failed_at",
}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    """JSON Lines, one object per line, UTF-8."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")


async def finalize(
    runtime: Runtime, key: uuid.UUID, status: BatchStatus, *, errors: list[dict[str, Any]] | None = None
) -> bool:
    """Write the output and error files and close the batch with ``status``; False when it was closed already."""
    now = utcnow()
    if status == BatchStatus.COMPLETED:
        async with runtime.session_factory.begin() as session:
            await store.set_status(
                session=session,
                batch_id=key,
                status=BatchStatus.FINALIZING,
                when=(BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS),
                finalizing_at=now,
            )
    async with runtime.session_factory.begin() as session:
        batch = await store.get_batch(session=session, batch_id=key)
        if batch is None or batch.status.terminal:
            return False
        rows: list[BatchResult] = await store.results(session=session, batch_id=key)
        public = batch_id(key)
        files: dict[str, uuid.UUID | None] = {}
        for name, suffix, ok in (("output", OUTPUT_SUFFIX, True), ("error", _ERRORS_SUFFIX, False)):
            lines = [row.line for row in rows if row.ok is ok]
            files[name] = None
            if lines:
                stored = await store.add_file(
                    session=session,
                    owner_id=batch.owner_id,
                    purpose="batch_output",
                    filename=f"{public}{suffix}",
                    content=jsonl(lines),
                )
                files[name] = stored.id
        fields: dict[str, Any] = {_CLOSED_AT[status]: utcnow(), "output_file_id": files["output"]}
        fields["error_file_id"] = files["error"]
        if errors:
            fields["errors"] = [*(batch.errors or []), *errors]
        open_states = [state for state in BatchStatus if not state.terminal]
        return await store.set_status(session=session, batch_id=key, status=status, when=open_states, **fields)
