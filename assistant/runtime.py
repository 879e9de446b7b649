"""The lifespan container: every long-lived resource of a process, built once and closed once.

The API (``assistant.app``) and the standalone worker (``assistant worker``) both build a :class:`Runtime`;
nothing else holds process-wide state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from assistant.audit import AuditLog, ChainAnchor
from assistant.core.background import BackgroundWrites
from assistant.core.config import Settings
from assistant.errors import ServiceUnavailableError, StoreError
from assistant.jobs import JobQueue, JobRegistry, Worker, load_job_modules
from assistant.knowledge import EmbedderConfig, RagEngine
from assistant.llm import BackendConfig, ChatBackend, ModelRegistry, ModelStatus, UnknownModelError
from assistant.llm.embedded import default_embedded_config
from assistant.presets import PresetCatalog
from assistant.provenance import ProvenanceSigner, load_or_create_signing_key
from assistant.security import (
    CounterBackend,
    DatabaseCounters,
    OidcLoginClient,
    OidcVerifier,
    PrincipalCache,
    RedisCounters,
    SessionSigner,
)
from assistant.speech import SpeechEngine
from assistant.store import create_engine, create_session_factory, upgrade_database_async
from assistant.store import governance as governance_store

if TYPE_CHECKING:
    from assistant.guard import GuardEngine
    from assistant.telemetry import Tracing

__all__ = ["ReadinessCheck", "Runtime", "apply_model_decisions", "open_runtime"]

logger = logging.getLogger(__name__)

# A check raises ServiceUnavailableError when its dependency is down; it may return a detail (« degraded »).
ReadinessCheck = Callable[[], Awaitable[str | None]]


@dataclass
class Runtime:
    """Resources shared by the requests or jobs of one process."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    job_queue: JobQueue
    job_registry: JobRegistry
    audit: AuditLog
    signer: ProvenanceSigner
    models: ModelRegistry
    counters: CounterBackend
    session_signer: SessionSigner
    presets: PresetCatalog
    rag: RagEngine
    speech: SpeechEngine
    oidc: OidcVerifier | None = None
    # The web sign-in's relying party («Se connecter avec ProConnect»), when a client id is configured.
    oidc_login: OidcLoginClient | None = None
    worker: Worker | None = None
    quota_cache: TTLCache[Any, Any] = field(default_factory=lambda: TTLCache(maxsize=10_000, ttl=5))
    # Current charter version, acceptances and guard rules, re-read at most every 5 s (cleared on change).
    policy_cache: TTLCache[Any, Any] = field(default_factory=lambda: TTLCache(maxsize=50_000, ttl=5))
    # The guard rules last compiled, reused while their version is the latest (compiling them checks every
    # pattern against backtracking probes: tens of milliseconds, too much to redo every 5 s on the request path).
    guard_engine: GuardEngine | None = None
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    # API keys already checked, for ``api_key_cache_seconds`` (see assistant.security._principal_cache).
    principal_cache: PrincipalCache = field(default_factory=lambda: PrincipalCache(ttl_seconds=30))
    # Usage records and quota counts written after the response, retried, drained at shutdown.
    background: BackgroundWrites = field(default_factory=BackgroundWrites)


def _model_checks(models: ModelRegistry) -> dict[str, ReadinessCheck]:
    """One readiness check per model server, plus the integrity of local weights."""

    async def integrity() -> str | None:
        report = models.integrity
        if report is not None and not report.ok:
            failed = ", ".join(sorted(report.failed_backends()))
            raise ServiceUnavailableError(f"poids altérés ou absents : {failed}")
        return None

    def probe(backend: ChatBackend) -> ReadinessCheck:
        async def check() -> str | None:
            health = await backend.health()
            if health.status == "down":
                raise ServiceUnavailableError(health.detail or "injoignable")
            # Serving, but not at full strength (a replica down, a breaker half-open): say which part.
            return f"dégradé : {health.detail}" if health.status == "degraded" and health.detail else None

        return check

    backends = {model.backend_name: model.backend for model in models.models(include_withdrawn=True)}
    return {"llm_weights": integrity, **{f"llm:{name}": probe(backend) for name, backend in sorted(backends.items())}}


async def apply_model_decisions(models: ModelRegistry, sessions: async_sessionmaker[AsyncSession]) -> int:
    """Re-apply the référents' persisted withdrawals to the freshly built registry; returns how many apply.

    A decision overrides the configuration both ways: a model configured as withdrawn but reinstated by a
    référent is served. Decisions on models no longer configured are kept (the model may come back) and logged.
    """
    try:
        async with sessions() as session:
            decisions = await governance_store.list_decisions(session=session)
    except SQLAlchemyError as exc:
        raise StoreError(f"Lecture des décisions sur les modèles impossible : {exc}") from exc
    applied = 0
    for decision in decisions:
        try:
            if decision.status == ModelStatus.WITHDRAWN:
                models.withdraw(decision.model_id, reason=decision.reason or "")
            else:
                models.reinstate(decision.model_id)
        except UnknownModelError:
            logger.warning("Decision on model %s ignored: no such model is configured", decision.model_id)
            continue
        applied += 1
    return applied


def _audit_anchor(settings: Settings, data_dir: Path) -> ChainAnchor:
    """The signer of the audit chain's checkpoints: its key and its file live outside the database."""
    key = load_or_create_signing_key(
        configured=None, key_file=settings.audit_checkpoint_key_file or data_dir / "audit_checkpoint_key.pem"
    )
    return ChainAnchor(
        key=key,
        path=settings.audit_checkpoint_file or data_dir / "audit-checkpoints.jsonl",
        every=settings.audit_checkpoint_every,
    )


def _embedded_default(settings: Settings, data_dir: Path) -> BackendConfig:
    """The CPU model served when no model server is configured (``make run`` on a fresh machine)."""
    return default_embedded_config(
        model=settings.embedded.model,
        models_dir=data_dir / "models",
        n_ctx=settings.embedded.context_tokens,
        n_threads=settings.embedded.threads,
        n_batch=settings.embedded.batch_tokens,
        max_waiting=settings.embedded.max_waiting,
        preload=settings.embedded.preload,
    )


def _builtin_job_modules() -> list[str]:
    # Features add their handler modules here as they land (ingestion, transcription, retention).
    return [
        "assistant.services.knowledge.ingestion",
        "assistant.services.knowledge.source_sync",
        "assistant.services.meetings.jobs",
        "assistant.services.batch.jobs",
    ]


def _rag_engine(settings: Settings, sessions: async_sessionmaker[AsyncSession], data_dir: Path) -> RagEngine:
    key = settings.rag.embedding_api_key
    return RagEngine(
        session_factory=sessions,
        index_dir=settings.rag.index_dir or data_dir / "index",
        embedder=EmbedderConfig(
            kind=settings.rag.embedder,
            threads=settings.rag.embedding_threads,
            url=settings.rag.embedding_url,
            model=settings.rag.embedding_model,
            dim=settings.rag.embedding_dim,
            api_key=key.get_secret_value() if key else None,
            query_prefix=settings.rag.embedding_query_prefix,
            passage_prefix=settings.rag.embedding_passage_prefix,
        ),
        chunk_tokens=settings.rag.chunk_tokens,
        overlap_tokens=settings.rag.chunk_overlap_tokens,
        max_document_bytes=settings.rag.max_document_bytes,
        max_document_pages=settings.rag.max_document_pages,
    )


def _speech_engine(settings: Settings, data_dir: Path) -> SpeechEngine:
    remote_key = settings.transcription.remote_api_key
    return SpeechEngine(
        data_dir=data_dir,
        model_dir=settings.transcription.model_dir,
        model_sha256=settings.transcription.model_sha256,
        remote_url=settings.transcription.remote_url,
        remote_model=settings.transcription.remote_model,
        remote_api_key=remote_key.get_secret_value() if remote_key else None,
        remote_sovereign=settings.transcription.remote_sovereign,
        device=settings.transcription.device,
        cpu_threads=settings.transcription.cpu_threads,
        beam_size=settings.transcription.beam_size,
        max_duration_s=settings.transcription.max_duration_seconds,
        window_s=settings.transcription.window_seconds,
        diarization=settings.transcription.diarization,
        glossary_prompt=settings.transcription.glossary_prompt,
    )


def _speech_check(engine: SpeechEngine) -> ReadinessCheck:
    """The speech model's weights checked by sha256, in a thread, without loading the model.

    One hash at a time: a probe that times out leaves its thread hashing, so the next probes join it instead of
    starting more threads that would slow each other down on a busy machine (and never answer in time).
    """
    running: asyncio.Future[str] | None = None

    def finished(future: asyncio.Future[str]) -> None:
        nonlocal running
        running = None
        if not future.cancelled():
            future.exception()  # retrieved here: the probes that awaited it report it themselves

    async def check() -> None:
        nonlocal running
        if running is None:
            running = asyncio.ensure_future(asyncio.to_thread(engine.check_weights))
            running.add_done_callback(finished)
        await asyncio.shield(running)

    return check


def _counters(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> CounterBackend:
    if settings.rate_limit_backend == "redis":
        return RedisCounters(settings.redis_url, prefix=settings.rate_limit_key_prefix)
    return DatabaseCounters(sessions)


def _oidc_verifier(settings: Settings) -> OidcVerifier | None:
    audience = settings.oidc.audience or settings.oidc.client_id
    if not settings.oidc.issuer or not audience:
        return None
    return OidcVerifier(
        issuer=settings.oidc.issuer,
        audience=audience,
        jwks_url=settings.oidc.jwks_url,
        algorithms=set(settings.oidc.algorithms),
        clock_skew_seconds=settings.oidc.clock_skew_seconds,
        cache_seconds=settings.oidc.jwks_cache_seconds,
        min_refresh_seconds=settings.oidc.jwks_min_refresh_seconds,
        timeout_seconds=settings.oidc.http_timeout_seconds,
    )


def _oidc_login_client(settings: Settings) -> OidcLoginClient | None:
    redirect_url = settings.oidc_effective_redirect_url
    if not settings.oidc.web_login_enabled or settings.oidc.client_secret is None or redirect_url is None:
        return None
    assert settings.oidc.issuer is not None and settings.oidc.client_id is not None
    return OidcLoginClient(
        issuer=settings.oidc.issuer,
        client_id=settings.oidc.client_id,
        client_secret=settings.oidc.client_secret.get_secret_value(),
        redirect_url=redirect_url,
        scopes=settings.oidc.scopes,
        auth_method=settings.oidc.client_auth_method,
        cache_seconds=settings.oidc.discovery_cache_seconds,
        timeout_seconds=settings.oidc.http_timeout_seconds,
    )


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    migrate: bool | None = None,
    with_worker: bool,
    start_models: bool = False,
    tracing: Tracing | None = None,
) -> AsyncIterator[Runtime]:
    """Open the database (migrating it first unless told not to), the job queue and, if asked, a worker.

    ``start_models`` starts the models the service runs itself (the embedded model's process, when preloaded):
    the API asks for it; a CLI command or a worker starts one only if a request needs it. ``tracing`` (telemetry
    on, see :func:`assistant.telemetry.open_tracing`) gives the worker a span per job.
    """
    data_dir = settings.ensure_data_dir()
    url = settings.effective_database_url
    if settings.migrate_on_start if migrate is None else migrate:
        await upgrade_database_async(settings.effective_migration_url, app_role=settings.database_app_role)
    engine = create_engine(url, pool_size=settings.database_pool_size)
    sessions = create_session_factory(engine)
    queue = JobQueue.create(
        backend=settings.jobs_backend,
        sqlite_path=data_dir / "jobs-queue.sqlite3",
        redis_url=settings.redis_url,
    )
    registry = JobRegistry()
    models = ModelRegistry.from_configs(settings.llm_backends or [_embedded_default(settings, data_dir)])
    await models.verify_integrity()
    await apply_model_decisions(models, sessions)
    if start_models:
        await models.start()
    runtime = Runtime(
        settings=settings,
        engine=engine,
        session_factory=sessions,
        job_queue=queue,
        job_registry=registry,
        audit=AuditLog(sessions, anchor=_audit_anchor(settings, data_dir)),
        signer=ProvenanceSigner(
            load_or_create_signing_key(
                configured=settings.signing_key.get_secret_value() if settings.signing_key else None,
                key_file=data_dir / "signing_key.pem",
            )
        ),
        models=models,
        counters=_counters(settings, sessions),
        session_signer=SessionSigner(
            settings.effective_secret_key(), max_age_seconds=settings.session_lifetime_seconds
        ),
        presets=PresetCatalog.load(*settings.task_presets_dirs),
        rag=_rag_engine(settings, sessions, data_dir),
        speech=_speech_engine(settings, data_dir),
        oidc=_oidc_verifier(settings),
        principal_cache=PrincipalCache(ttl_seconds=settings.api_key_cache_seconds),
        oidc_login=_oidc_login_client(settings),
    )
    runtime.readiness_checks.update(_model_checks(models))
    runtime.readiness_checks["transcription_weights"] = _speech_check(runtime.speech)
    try:
        # Handlers are bound to this runtime as they register, so the job machinery never needs its type.
        load_job_modules(registry, [*_builtin_job_modules(), *settings.job_modules], runtime)
        if with_worker:
            runtime.worker = Worker(
                queue=queue,
                registry=registry,
                session_factory=sessions,
                concurrency=settings.worker_concurrency,
                lease=timedelta(seconds=settings.job_lease_seconds),
                recovery_interval=settings.job_recovery_interval_seconds,
                tracing=tracing,
            )
            await runtime.worker.start()
        yield runtime
    finally:
        # First, while the database and the counters are still open: nothing queued may be lost.
        await runtime.background.aclose()
        if runtime.worker is not None:
            await runtime.worker.stop()
        runtime.rag.close()
        await models.aclose()
        runtime.speech.close()
        if runtime.oidc is not None:
            await runtime.oidc.aclose()
        if runtime.oidc_login is not None:
            await runtime.oidc_login.aclose()
        await runtime.counters.aclose()
        await engine.dispose()
