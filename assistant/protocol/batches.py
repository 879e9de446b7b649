"""Batch protocol models: ``/v1/batches`` (create, retrieve, list, cancel).

Reference: https://platform.openai.com/docs/api-reference/batch/object — fields in the documentation's order.
The input and output lines (JSONL) are described by :class:`BatchInputLine` and :class:`BatchOutputLine`; an output
line's ``response.body`` is the labelled chat completion that ``/v1/chat/completions`` returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.protocol._base import OpenAIBaseModel

__all__ = [
    "BatchCreateRequest",
    "BatchError",
    "BatchErrors",
    "BatchInputLine",
    "BatchList",
    "BatchObject",
    "BatchOutputLine",
    "BatchRequestCounts",
    "BatchResponse",
    "BatchStatusName",
]

BatchStatusName = Literal[
    "validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"
]


class BatchCreateRequest(OpenAIBaseModel):
    """Body of ``POST /v1/batches``; ``endpoint`` and ``completion_window`` are checked by the service, so that a
    wrong value gets a French 400 rather than a schema error."""

    input_file_id: str = Field(max_length=100)
    endpoint: str = Field(max_length=100)
    completion_window: str = Field(max_length=10)
    metadata: dict[str, str] | None = None


class BatchError(OpenAIBaseModel):
    """One reason a batch was refused or failed; ``line`` is the input line (1-based) when one is at fault."""

    code: str
    message: str
    param: str | None = None
    line: int | None = None


class BatchErrors(OpenAIBaseModel):
    object: Literal["list"] = "list"
    data: list[BatchError]


class BatchRequestCounts(OpenAIBaseModel):
    """Lines in the batch, lines answered (status 200), lines failed."""

    total: int
    completed: int
    failed: int


class BatchObject(OpenAIBaseModel):
    """One batch, as the official client's ``Batch`` reads it (timestamps in Unix seconds)."""

    id: str
    object: Literal["batch"] = "batch"
    endpoint: str
    errors: BatchErrors | None = None
    input_file_id: str
    completion_window: str
    status: BatchStatusName
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: BatchRequestCounts
    metadata: dict[str, str] | None = None


class BatchList(OpenAIBaseModel):
    """A page of the caller's batches, newest first; ``after`` (a batch id) gives the next page."""

    object: Literal["list"] = "list"
    data: list[BatchObject]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class BatchInputLine(BaseModel):
    """One line of an input file. Strict: a misspelt field is a mistake to report with its line number."""

    model_config = ConfigDict(extra="forbid")

    custom_id: str = Field(min_length=1, max_length=512)
    method: Literal["POST"]
    url: str
    body: dict[str, Any]


class BatchResponse(OpenAIBaseModel):
    status_code: int
    request_id: str
    body: dict[str, Any]


class BatchOutputLine(OpenAIBaseModel):
    """One line of an output (status 200) or error file."""

    id: str
    custom_id: str
    response: BatchResponse | None = None
    error: dict[str, Any] | None = None

    # -- Souverain extension (design §4): the label travels with every line, whatever reads the file.
    ai_generated: bool = Field(description="True when the line carries generated content (a completion).")
