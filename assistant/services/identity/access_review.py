"""What auditors export: the event log (CSV/JSON) and the access review (rights, model use, last logins)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from assistant.runtime import Runtime
from assistant.store import access_review as review_store
from assistant.store import audit as audit_store
from assistant.store import utcnow
from assistant.store.models import AuditEvent

__all__ = ["AccessReview", "ExportFormat", "Section", "access_review", "access_review_data", "export_events"]

ExportFormat = Literal["csv", "json"]
Section = Literal["users", "collections", "models"]

_EVENT_FIELDS = (
    "id",
    "occurred_at",
    "category",
    "action",
    "outcome",
    "actor_label",
    "actor_id",
    "resource_type",
    "resource_id",
    "ip",
    "user_agent",
    "request_id",
    "details",
    "prev_hash",
    "hash",
)
_EXPORT_LIMIT = 100_000


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return value
    return None if value is None else str(value) if not isinstance(value, int | float | bool) else value


def _render(rows: Sequence[dict[str, Any]], fields: Sequence[str], file_format: ExportFormat) -> bytes:
    if file_format == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=1).encode("utf-8")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
                for key, value in row.items()
            }
        )
    # The BOM lets spreadsheet software read the accents right.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _event_row(event: AuditEvent) -> dict[str, Any]:
    return {name: _plain(getattr(event, name)) for name in _EVENT_FIELDS}


async def export_events(
    runtime: Runtime,
    *,
    file_format: ExportFormat,
    category: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> bytes:
    """The log (oldest first, with hashes so that the export itself can be re-verified), as CSV or JSON."""
    async with runtime.session_factory() as session:
        events = await audit_store.query_events(
            session=session, category=category, since=since, until=until, limit=_EXPORT_LIMIT
        )
    rows = [_event_row(event) for event in reversed(events)]
    return _render(rows, _EVENT_FIELDS, file_format)


@dataclasses.dataclass(frozen=True)
class AccessReview:
    """The access review's three sections, as read now."""

    users: list[review_store.UserAccess]
    collections: list[review_store.CollectionGrant]
    models: list[review_store.ModelUse]


async def access_review_data(runtime: Runtime, *, days: int = 90) -> AccessReview:
    """Accounts and last logins, rights on collections, model use over the last ``days`` days (for the web page)."""
    async with runtime.session_factory() as session:
        return AccessReview(
            users=await review_store.user_accesses(session=session),
            collections=await review_store.collection_grants(session=session),
            models=await review_store.model_uses(session=session, since=utcnow() - timedelta(days=days)),
        )


async def access_review(
    runtime: Runtime, *, file_format: ExportFormat, section: Section | None = None, days: int = 90
) -> bytes:
    """Who can reach which collection, who used which model (last ``days`` days), and last logins."""
    review = await access_review_data(runtime, days=days)
    sections: dict[str, list[Any]] = {
        "users": review.users,
        "collections": review.collections,
        "models": review.models,
    }
    as_rows = {
        name: [{key: _plain(value) for key, value in dataclasses.asdict(item).items()} for item in items]
        for name, items in sections.items()
    }
    if file_format == "json":
        chosen = {section: as_rows[section]} if section else as_rows
        return json.dumps({"generated_at": utcnow().isoformat(), **chosen}, ensure_ascii=False, indent=1).encode()
    name = section or "users"
    item_type = {
        "users": review_store.UserAccess,
        "collections": review_store.CollectionGrant,
        "models": review_store.ModelUse,
    }
    fields = [field.name for field in dataclasses.fields(item_type[name])]
    return _render(as_rows[name], fields, "csv")
