"""The one settings object of the service.

Every value comes from the environment (prefix ``SOUVERAIN_``) or an optional ``.env`` file. Nothing reads
environment variables anywhere else: build :class:`Settings` with :func:`get_settings` and inject it.
"""

from __future__ import annotations

import functools
import ipaddress
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from assistant.core.settings_groups import (
    OIDC_CALLBACK_PATH,
    SETTINGS_GROUPS,
    EmbeddedModelSettings,
    OidcSettings,
    RagSettings,
    TranscriptionSettings,
)
from assistant.errors import ConfigurationError
from assistant.llm import BackendConfig

__all__ = [
    "ENV_PREFIX",
    "OIDC_CALLBACK_PATH",
    "EmbeddedModelSettings",
    "OidcSettings",
    "RagSettings",
    "Settings",
    "TranscriptionSettings",
    "get_settings",
    "load_settings",
]

ENV_PREFIX = "SOUVERAIN_"

# Drivers the store is tested with; anything else would fail later with a less helpful message.
_SUPPORTED_DATABASE_DRIVERS = {"sqlite+aiosqlite", "postgresql+asyncpg"}
_DRIVER_ALIASES = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
_PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "please-change", "dev"}


class Settings(BaseSettings):
    """Service configuration, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        # Compose and Helm pass unset optional variables as empty strings; treat them as unset.
        env_ignore_empty=True,
        # SOUVERAIN_RAG_CHUNK_TOKENS fills rag.chunk_tokens: one split after the group's name, so the names of
        # the variables stay those of the flat settings they were.
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_names(cls, data: Any) -> Any:
        """Accept the flat names too (``Settings(rag_chunk_tokens=128)``), as the environment spells them."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for group in SETTINGS_GROUPS:
            flat = {key.removeprefix(f"{group}_"): data.pop(key) for key in list(data) if key.startswith(f"{group}_")}
            if not flat:
                continue
            nested = data.get(group)
            if isinstance(nested, BaseModel):
                nested = {name: getattr(nested, name) for name in nested.model_fields_set}
            data[group] = {**(nested if isinstance(nested, dict) else {}), **flat}
        return data

    environment: Literal["dev", "production"] = "dev"
    data_dir: Path = Field(default=Path("data"), description="Writable directory: SQLite files, indexes, uploads.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file in data_dir. PostgreSQL: postgresql+asyncpg://…",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply migrations at start-up; false when a dedicated job migrates (Helm, compose)."
    )
    database_pool_size: Annotated[int, Field(ge=1, le=200)] = 20
    # Separation of roles on PostgreSQL: migrations run as the schema owner; the service connects as a role that
    # may only INSERT and SELECT the audit log, so it cannot TRUNCATE it nor drop its append-only trigger.
    database_migration_url: str | None = Field(
        default=None,
        description="URL migrations connect with (the schema owner); default database_url. PostgreSQL only.",
    )
    database_app_role: str | None = Field(
        default=None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL role the service connects as (database_url's user): migrations grant it "
        "INSERT/SELECT only on audit_events, read/write elsewhere, and create it (NOLOGIN) when missing.",
    )
    audit_checkpoint_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) signing the audit chain's checkpoints, kept outside the database; "
        "generated at first start when missing (default data_dir/audit_checkpoint_key.pem).",
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="Append-only file (WORM volume, chattr +a) the signed checkpoints of the audit chain's head "
        "are appended to; default data_dir/audit-checkpoints.jsonl.",
    )
    audit_checkpoint_every: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=1, description="Checkpoint the head every N appends; events after the last one can be cut unseen."
    )
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description=(
            "Comma-separated addresses or networks (CIDR) of the reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto are believed; behind an ingress, its pods' network. From anyone else they are ignored."
        ),
    )
    auth_max_anonymous_failures_per_minute: Annotated[int, Field(ge=1)] = Field(
        default=300,
        description="Bad API keys or tokens one address may send per minute before 429s (logged aggregated).",
    )
    api_docs_public: bool | None = Field(
        default=None,
        description="Whether /docs, /redoc and /openapi.json answer anonymous callers (unset: in dev only).",
    )
    request_max_body_bytes: Annotated[int, Field(ge=65_536)] = Field(
        default=8_000_000,
        description="Largest body of a request that carries no file (JSON, forms): larger ones get a 413 unread.",
    )
    public_url: str | None = Field(default=None, description="External URL, used in links and OIDC redirects.")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    # --- OpenTelemetry traces (assistant.telemetry): off by default, and then OpenTelemetry is never loaded.
    otel_enabled: bool = Field(
        default=False, description="Send traces (request → gateway → model server, jobs) to an OTLP collector."
    )
    otel_endpoint: str = Field(
        default="http://127.0.0.1:4318",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="OTLP/HTTP (protobuf) collector; /v1/traces is added unless the URL ends with it.",
    )
    otel_service_name: str = Field(default="souverain", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    otel_sampling_ratio: Annotated[float, Field(ge=0, le=1)] = Field(
        default=1.0, description="Share of traces kept (0.1: one request in ten); a caller's sampled trace is kept."
    )

    secret_key: SecretStr | None = Field(
        default=None, description="Signs sessions and CSRF tokens. Generated in data_dir in dev when unset."
    )

    signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (PEM or base64 seed) signing provenance manifests; generated in dev.",
    )

    llm_backends: list[BackendConfig] = Field(
        default_factory=list,
        description="Model servers (JSON list); empty means the embedded CPU model only.",
    )
    default_model: str | None = Field(default=None, description="Model used when a request names none.")
    llm_priority_groups: dict[str, int] = Field(
        default_factory=dict,
        description='Priority of a group\'s requests when a model is saturated (JSON, e.g. {"cellule de crise": 100});'
        " chat in the web pages is 20, API keys 10.",
    )
    embedded: EmbeddedModelSettings = Field(default_factory=EmbeddedModelSettings)
    guard_classifier_model: str | None = Field(
        default=None,
        description="Sovereign model asked the forbidden-use rules' classifier prompts (the default model if unset).",
    )
    grid_gco2_per_kwh: Annotated[float, Field(ge=0, le=2000)] = Field(
        default=41.44, description="Carbon intensity of the site's electricity (French mix by default)."
    )
    datacenter_pue: Annotated[float, Field(ge=1, le=3)] = 1.2

    jobs_backend: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    jobs_queue_name: str = Field(default="souverain", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    run_worker_in_process: bool = Field(
        default=True, description="Run the job worker inside the API process (embedded default)."
    )
    worker_concurrency: Annotated[int, Field(ge=1, le=64)] = 2
    job_lease_seconds: Annotated[float, Field(gt=0)] = 60.0
    job_recovery_interval_seconds: Annotated[float, Field(gt=0)] = 15.0
    job_max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    worker_heartbeat_file: Path | None = Field(
        default=None, description="File the standalone worker touches every few seconds (container health probe)."
    )
    job_modules: list[str] = Field(
        default_factory=list, description="Extra modules whose register(registry) adds job handlers."
    )

    # --- Identity and access control (design §5).
    oidc: OidcSettings = Field(default_factory=OidcSettings)

    session_cookie_name: str = Field(default="souverain_session", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    csrf_cookie_name: str = Field(default="souverain_csrf", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    session_lifetime_seconds: Annotated[int, Field(ge=60)] = 8 * 3600
    session_cookie_samesite: Literal["lax", "strict"] = "lax"

    login_max_failures_per_account: Annotated[int, Field(ge=1)] = 5
    login_max_failures_per_ip: Annotated[int, Field(ge=1)] = 50
    login_lockout_seconds: Annotated[int, Field(ge=1)] = 900

    rate_limit_backend: Literal["database", "redis"] = Field(
        default="database", description="Where quota counters live: the database (embedded) or Redis (replicas)."
    )
    rate_limit_key_prefix: str = "souverain:rl:"
    default_requests_per_minute: Annotated[int, Field(ge=1)] = 120
    default_tokens_per_day: Annotated[int, Field(ge=1)] = 500_000
    default_concurrent_jobs: Annotated[int, Field(ge=1)] = 4
    api_key_default_lifetime_days: Annotated[int, Field(ge=1, le=3650)] = 365
    api_key_use_log_interval_seconds: Annotated[int, Field(ge=0)] = Field(
        default=300, description="A key's use is written to the connection log at most this often."
    )
    api_key_cache_seconds: Annotated[float, Field(ge=0, le=300)] = Field(
        default=30,
        description=(
            "How long a process remembers a checked API key (0: never). Revoking a key, disabling an account or "
            "changing its role or groups applies at once in the process that made the change, and within this "
            "delay in the other processes and replicas."
        ),
    )

    # --- Chat product: conversations and document tasks (issue 6)
    chat_system_prompt: str = Field(
        default=(
            "Tu es Souverain, l'assistant IA des agents publics. Réponds en français, avec exactitude et "
            "concision. Si tu ne sais pas, dis-le plutôt que d'inventer."
        ),
        description="System prompt of every conversation; empty sends none.",
    )
    chat_history_tokens: Annotated[int, Field(ge=256)] = Field(
        default=6000, description="Most tokens of past messages sent back to the model with a new message."
    )
    task_max_upload_bytes: Annotated[int, Field(ge=1)] = Field(
        default=20_000_000, description="Largest file a document task accepts."
    )
    task_max_pages: Annotated[int, Field(ge=1)] = Field(default=300, description="Most pages a document task reads.")
    task_chunk_tokens: Annotated[int, Field(ge=100)] = Field(
        default=3000, description="Longest part (tokens) sent in one model call; longer inputs are map-reduced."
    )
    task_presets_dirs: list[Path] = Field(
        default_factory=list, description="Extra directories of task presets (<name>.v<N>.md files)."
    )
    task_max_chunks: Annotated[int, Field(ge=1)] = Field(
        default=40, description="Most parts one document task may be split into (bounds its cost)."
    )
    rag: RagSettings = Field(default_factory=RagSettings)
    # --- Batches (/v1/files, /v1/batches): JSONL files of chat completions run by the workers at lowest priority.
    batch_max_file_bytes: Annotated[int, Field(ge=1)] = Field(
        default=50_000_000, description="Largest file /v1/files accepts (the file is stored in the database)."
    )
    batch_max_lines: Annotated[int, Field(ge=1)] = Field(default=50_000, description="Most requests in one batch.")
    # --- Web interface (assistant.web)
    web_assets_dir: Path = Field(
        default=Path(".build/web"),
        description="Front-end packages installed by assistant/web/build.sh (DSFR, marked, DOMPurify); "
        "the pages fall back to unstyled HTML, with a warning at start-up, when it is missing.",
    )
    # --- Retention (RGPD): a scheduled purge in the worker deletes what is older; 0 keeps forever.
    retention_conversations_days: Annotated[int, Field(ge=0)] = Field(
        default=365, description="Conversations untouched for this many days are deleted (0: kept)."
    )
    retention_transcriptions_days: Annotated[int, Field(ge=0)] = Field(
        default=180, description="Transcriptions (transcript, minutes, kept audio) older than this are deleted."
    )
    retention_usage_days: Annotated[int, Field(ge=0)] = Field(
        default=730, description="Usage records (KPIs, energy) older than this are deleted."
    )
    retention_batches_days: Annotated[int, Field(ge=0)] = Field(
        default=30, description="Finished batches and their files (input, output, errors) older than this are deleted."
    )
    retention_interval_hours: Annotated[float, Field(gt=0)] = Field(
        default=24.0, description="How often the worker applies the retention rules."
    )
    # --- Governance (incidents, model supervision).
    incident_alert_threshold: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=3,
        description="Open bias or data-leak reports on one model within the window that raise an alert.",
    )
    incident_alert_window_days: Annotated[int, Field(ge=1, le=365)] = Field(
        default=7, description="Window (days) over which the alert threshold and the quality signals are counted."
    )
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)

    @property
    def docs_are_public(self) -> bool:
        """Whether the API's documentation answers anonymous callers."""
        return self.api_docs_public if self.api_docs_public is not None else self.environment != "production"

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is neither an IP address nor a network (CIDR)") from None
        return ",".join(entries)

    @field_validator("database_url", "database_migration_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        driver = _DRIVER_ALIASES.get(url.drivername, url.drivername)
        if driver not in _SUPPORTED_DATABASE_DRIVERS:
            supported = ", ".join(sorted(_SUPPORTED_DATABASE_DRIVERS))
            raise ValueError(f"unsupported driver {url.drivername!r}; use one of {supported}")
        if driver.startswith("postgresql") and not url.database:
            raise ValueError("the PostgreSQL URL names no database")
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        oidc = self.oidc
        if oidc.issuer and not (oidc.audience or oidc.client_id):
            raise ValueError(f"{ENV_PREFIX}OIDC_AUDIENCE is required when {ENV_PREFIX}OIDC_ISSUER is set")
        if oidc.issuer and self.environment == "production" and not oidc.issuer.startswith("https://"):
            raise ValueError(f"{ENV_PREFIX}OIDC_ISSUER must be an https:// address in production")
        if oidc.web_login_enabled:
            self._check_oidc_web_login()
        return self

    def _check_oidc_web_login(self) -> None:
        secret = self.oidc.client_secret.get_secret_value() if self.oidc.client_secret else ""
        if self.environment == "production" and (secret.lower() in _PLACEHOLDER_SECRETS or len(secret) < 16):
            raise ValueError(f"{ENV_PREFIX}OIDC_CLIENT_SECRET must be the secret the provider issued in production")
        if "openid" not in self.oidc.scopes:
            raise ValueError(f"{ENV_PREFIX}OIDC_SCOPES must include openid")
        redirect = self.oidc_effective_redirect_url
        if redirect is None:
            raise ValueError(
                f"{ENV_PREFIX}OIDC_REDIRECT_URL (or {ENV_PREFIX}PUBLIC_URL) is required with {ENV_PREFIX}OIDC_CLIENT_ID"
            )
        parts = urlsplit(redirect)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.fragment or parts.query:
            raise ValueError(f"{ENV_PREFIX}OIDC_REDIRECT_URL must be an absolute http(s) address without query")
        if self.environment == "production" and parts.scheme != "https":
            raise ValueError(f"{ENV_PREFIX}OIDC_REDIRECT_URL must be an https:// address in production")
        if not parts.path.endswith(OIDC_CALLBACK_PATH):
            raise ValueError(f"{ENV_PREFIX}OIDC_REDIRECT_URL must end with {OIDC_CALLBACK_PATH}")

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if key.lower() in _PLACEHOLDER_SECRETS or len(key) < 32:
            raise ValueError(f"{ENV_PREFIX}SECRET_KEY must be a random value of 32+ characters in production")
        if self.signing_key is None:
            raise ValueError(f"{ENV_PREFIX}SIGNING_KEY must be set in production (every replica signs alike)")
        if self.database_url is None or self.database_url.startswith("sqlite"):
            raise ValueError(f"{ENV_PREFIX}DATABASE_URL must point to PostgreSQL in production")
        return self

    @property
    def oidc_effective_redirect_url(self) -> str | None:
        """Where the provider sends the browser back: the configured URL, or the callback under ``public_url``."""
        if self.oidc.redirect_url:
            return self.oidc.redirect_url
        if self.public_url:
            return self.public_url.rstrip("/") + OIDC_CALLBACK_PATH
        return None

    @property
    def effective_migration_url(self) -> str:
        """The schema owner's URL migrations run with: the migration URL, else the service's own."""
        return self.database_migration_url or self.effective_database_url

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'souverain.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        """Create the data directory (idempotent) and return it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def effective_secret_key(self) -> str:
        """The configured secret key; in dev, one generated once and kept in ``data_dir``."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        key_file = self.ensure_data_dir() / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            key_file.chmod(0o600)
        return key_file.read_text(encoding="utf-8").strip()


def _describe(error: dict[str, Any]) -> str:
    # A nested group's location (rag, chunk_tokens) is the variable SOUVERAIN_RAG_CHUNK_TOKENS.
    field = "_".join(str(part) for part in error["loc"]) if error["loc"] else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if field and not message.startswith(ENV_PREFIX):
        return f"{ENV_PREFIX}{field.upper()}: {message}"
    return message


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into a one-line :class:`ConfigurationError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        details = "; ".join(_describe(error) for error in exc.errors())
        raise ConfigurationError(f"Invalid configuration — {details}") from None


@functools.cache
def get_settings() -> Settings:
    """Settings of this process, built once."""
    return load_settings()
