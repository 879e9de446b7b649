"""The usage charter: publication by the référent, acceptance by each user before use, export for the auditors.

With no charter published nothing is required (the shipped default text is shown for information); once the
référent publishes a version, every user must accept it before any generation route answers them. An API key
acts with its owner's acceptance. The check runs on every request of those routes, so the current version and
positive answers are cached per process for a few seconds (cleared in this process on publication).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from assistant.audit import ClientInfo
from assistant.errors import CharterNotAcceptedError, ConflictError, InvalidRequestError, PermissionDeniedError
from assistant.guard import default_charter
from assistant.runtime import Runtime
from assistant.security import Principal
from assistant.store import charter as store
from assistant.store import users as user_store
from assistant.store import utcnow
from assistant.store.models import CharterAcceptance, CharterVersion

__all__ = [
    "CHARTER_PAGE",
    "CharterState",
    "CharterText",
    "accept_charter",
    "acceptance_export",
    "acceptance_rate",
    "acceptances_csv",
    "charter_history",
    "charter_state",
    "current_version",
    "ensure_charter_accepted",
    "has_accepted",
    "publish_charter",
]

logger = logging.getLogger(__name__)

CHARTER_PAGE = "/charte"
_CURRENT = ("charter", "current")


@dataclass(frozen=True, slots=True)
class CharterText:
    """A charter as shown to people; ``version`` is None for the shipped default, never published."""

    version: int | None
    title: str
    summary: str
    text: str
    published_at: datetime | None = None
    published_by: str | None = None


@dataclass(frozen=True, slots=True)
class CharterState:
    """The current charter and where the caller stands with it."""

    charter: CharterText
    required: bool
    accepted: bool
    accepted_at: datetime | None = None


def _text_of(row: CharterVersion | None) -> CharterText:
    if row is None:
        title, summary, text = default_charter()
        return CharterText(version=None, title=title, summary=summary, text=text)
    return CharterText(
        version=row.version,
        title=row.title,
        summary=row.summary,
        text=row.text,
        published_at=row.published_at,
        published_by=row.published_by,
    )


async def _current(runtime: Runtime) -> CharterText:
    cached: CharterText | None = runtime.policy_cache.get(_CURRENT)
    if cached is None:
        async with runtime.session_factory() as session:
            cached = _text_of(await store.current_charter(session=session))
        runtime.policy_cache[_CURRENT] = cached
    return cached


async def current_version(runtime: Runtime) -> int | None:
    """The version users must have accepted, None when no charter was published."""
    return (await _current(runtime)).version


async def has_accepted(runtime: Runtime, principal: Principal, version: int) -> bool:
    """True when the caller's account accepted ``version`` (only positive answers are cached)."""
    key = ("charter", "accepted", principal.user_id, version)
    if runtime.policy_cache.get(key):
        return True
    async with runtime.session_factory() as session:
        found = await store.get_acceptance(session=session, user_id=principal.user_id, version=version) is not None
    if found:
        runtime.policy_cache[key] = True
    return found


async def ensure_charter_accepted(runtime: Runtime, principal: Principal) -> None:
    """Refuse (403 ``charter_not_accepted``) a caller whose account has not accepted the current charter."""
    version = await current_version(runtime)
    if version is None or await has_accepted(runtime, principal, version):
        return
    via_key = " (la clé d'API agit au nom de son titulaire)" if principal.method == "api_key" else ""
    error = CharterNotAcceptedError(
        f"Avant d'utiliser l'assistant, lisez et acceptez la charte d'utilisation (version {version}) "
        f"sur la page {CHARTER_PAGE}{via_key}."
    )
    error.details = {"charter_version": version, "charter_url": CHARTER_PAGE}
    raise error


async def charter_state(runtime: Runtime, principal: Principal) -> CharterState:
    """The current charter (or the default text) and whether the caller accepted it."""
    charter = await _current(runtime)
    if charter.version is None:
        return CharterState(charter=charter, required=False, accepted=False)
    async with runtime.session_factory() as session:
        row = await store.get_acceptance(session=session, user_id=principal.user_id, version=charter.version)
    return CharterState(
        charter=charter, required=True, accepted=row is not None, accepted_at=row.accepted_at if row else None
    )


async def publish_charter(
    runtime: Runtime,
    *,
    principal: Principal,
    client: ClientInfo,
    title: str | None = None,
    summary: str | None = None,
    text: str | None = None,
) -> CharterText:
    """Publish a new version (the shipped default text when ``text`` is omitted); everyone must accept it again."""
    default_title, default_summary, default_text = default_charter()
    if text is None and summary is not None:
        raise InvalidRequestError("Un résumé sans texte : envoyez aussi le texte de la charte (text).")
    chosen_text = text if text is not None else default_text
    chosen_summary = summary if summary is not None else default_summary if text is None else ""
    if not chosen_summary.strip():
        raise InvalidRequestError("Le résumé des règles (summary) est obligatoire : quelques lignes en français.")
    try:
        async with runtime.session_factory.begin() as session:
            latest = await store.current_charter(session=session)
            row = CharterVersion(
                version=(latest.version if latest else 0) + 1,
                title=title or default_title,
                summary=chosen_summary.strip(),
                text=chosen_text,
                published_by=principal.username,
                published_at=utcnow(),
            )
            await store.add_charter(session=session, charter=row)
            published = _text_of(row)
    except IntegrityError as exc:
        raise ConflictError("Une autre version de la charte vient d'être publiée : réessayez.") from exc
    runtime.policy_cache.pop(_CURRENT, None)
    await runtime.audit.record(
        category="audit",
        action="charter.published",
        actor_id=principal.user_id,
        actor_label=principal.username,
        resource_type="charter",
        resource_id=str(published.version),
        client=client,
        details={"version": published.version, "default_text": text is None},
    )
    logger.info("charter version %s published by %s", published.version, principal.username)
    return published


async def accept_charter(runtime: Runtime, *, principal: Principal, client: ClientInfo, version: int) -> CharterState:
    """Record the caller's acceptance of ``version``, which must be the current one. Accepting twice is harmless."""
    current = await current_version(runtime)
    if current is None:
        raise InvalidRequestError("Aucune charte n'est publiée : il n'y a rien à accepter.", code="no_charter")
    if version != current:
        raise ConflictError(
            f"La charte a changé : la version en vigueur est la {current}. Relisez-la avant de l'accepter.",
            code="charter_version_outdated",
        )
    if principal.method == "api_key":
        # A person reads and accepts; a key only inherits its owner's acceptance.
        raise PermissionDeniedError(
            "La charte s'accepte en personne (interface web ou jeton de connexion), pas avec une clé d'API.",
            code="charter_acceptance_requires_person",
        )
    async with runtime.session_factory.begin() as session:
        existing = await store.get_acceptance(session=session, user_id=principal.user_id, version=version)
        if existing is None:
            await store.add_acceptance(
                session=session,
                acceptance=CharterAcceptance(
                    user_id=principal.user_id, version=version, accepted_at=utcnow(), method=principal.method
                ),
            )
    if existing is None:
        await runtime.audit.record(
            category="audit",
            action="charter.accepted",
            actor_id=principal.user_id,
            actor_label=principal.username,
            resource_type="charter",
            resource_id=str(version),
            client=client,
            details={"version": version},
        )
    runtime.policy_cache[("charter", "accepted", principal.user_id, version)] = True
    return await charter_state(runtime, principal)


async def acceptance_export(runtime: Runtime, *, version: int | None = None) -> list[store.AcceptanceRow]:
    """Every acceptance (or those of one version), oldest first."""
    async with runtime.session_factory() as session:
        return await store.list_acceptances(session=session, version=version)


def acceptances_csv(rows: list[store.AcceptanceRow]) -> str:
    """The acceptances as CSV (user id, account, version, UTC time, how they were signed in)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["user_id", "username", "version", "accepted_at", "method"])
    for row in rows:
        writer.writerow([row.user_id, row.username, row.version, row.accepted_at.isoformat(), row.method])
    return buffer.getvalue()


async def charter_history(runtime: Runtime) -> tuple[list[store.CharterHistoryRow], int]:
    """Every published version (newest first) with its acceptance count, and the number of active accounts."""
    async with runtime.session_factory() as session:
        rows = await store.charter_history(session=session)
        users = len(await user_store.list_users(session=session, active=True))
    return rows, users


async def acceptance_rate(runtime: Runtime) -> tuple[int | None, int, int]:
    """(current version, active users who accepted it, active users) for the compliance report."""
    version = await current_version(runtime)
    async with runtime.session_factory() as session:
        users = len(await user_store.list_users(session=session, active=True))
        accepted = await store.count_acceptances(session=session, version=version) if version else 0
    return version, accepted, users
