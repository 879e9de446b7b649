"""Request and response bodies of the access-control routes (API schemas, separate from the tables)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.security import Principal, Scope
from assistant.services.gateway.quotas import EffectiveQuota
from assistant.store.models import ApiKey, AuditEvent, Group, Role, User

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyOut",
    "AuditEventOut",
    "ChainReportOut",
    "GroupCreate",
    "GroupDetail",
    "GroupOut",
    "LoginRequest",
    "LoginResponse",
    "Profile",
    "QuotaOut",
    "QuotaUpdate",
    "UserCreate",
    "UserOut",
    "UserUpdate",
]

_Limit = Annotated[int | None, Field(ge=1, le=10_000_000_000)]


class LoginRequest(BaseModel):
    """Local account credentials."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class Profile(BaseModel):
    """The caller."""

    id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    role: Role
    auth_method: str
    permissions: list[str]
    groups: list[str]

    @classmethod
    def of(cls, principal: Principal, user: User) -> Profile:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            role=user.role,
            auth_method=principal.method,
            permissions=sorted(permission.value for permission in principal.permissions),
            groups=list(principal.groups),
        )


class LoginResponse(BaseModel):
    """A web session was opened; send ``csrf_token`` back in ``X-CSRF-Token`` on unsafe requests."""

    user: Profile
    csrf_token: str
    expires_at: datetime


class ApiKeyCreate(BaseModel):
    """A new API key for oneself."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, description="chat, documents, transcriptions, admin, audit")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="Défaut : réglage du service.")


class ApiKeyOut(BaseModel):
    """An API key as listed (never its secret)."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls.model_validate(key, from_attributes=True)


class ApiKeyCreated(ApiKeyOut):
    """A new key: ``key`` is shown this once and cannot be recovered."""

    key: str


class UserOut(BaseModel):
    """An account as seen by référents."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    role: Role
    is_active: bool
    created_at: datetime


class UserCreate(BaseModel):
    """A new local account (without password: it signs in with API keys only)."""

    model_config = ConfigDict(extra="forbid")

    username: str
    role: Role = Role.AGENT
    password: str | None = Field(default=None, max_length=1024)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)


class UserUpdate(BaseModel):
    """Change a role, or disable/enable an account."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None


class GroupCreate(BaseModel):
    """A new group."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=150)
    description: str = Field(default="", max_length=500)


class GroupOut(BaseModel):
    """A group."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str

    @classmethod
    def of(cls, group: Group) -> GroupOut:
        return cls.model_validate(group)


class GroupDetail(GroupOut):
    """A group and its members."""

    members: list[UserOut]


class QuotaOut(BaseModel):
    """Limits in force for a user; ``overridden`` names those that differ from the defaults."""

    requests_per_minute: int
    tokens_per_day: int
    concurrent_jobs: int
    overridden: list[str]

    @classmethod
    def of(cls, quota: EffectiveQuota) -> QuotaOut:
        return cls(
            requests_per_minute=quota.requests_per_minute,
            tokens_per_day=quota.tokens_per_day,
            concurrent_jobs=quota.concurrent_jobs,
            overridden=sorted(quota.overridden),
        )


class QuotaUpdate(BaseModel):
    """Per-user overrides; ``null`` restores the default."""

    model_config = ConfigDict(extra="forbid")

    requests_per_minute: _Limit = None
    tokens_per_day: _Limit = None
    concurrent_jobs: Annotated[int | None, Field(ge=1, le=1000)] = None


class AuditEventOut(BaseModel):
    """One event of the connection or audit log."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: str
    action: str
    outcome: str
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_label: str | None
    resource_type: str | None
    resource_id: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    details: dict[str, Any]
    hash: str

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls.model_validate(event)


class ChainReportOut(BaseModel):
    """Result of walking the hash chain."""

    ok: bool
    events: int
    head_hash: str
    first_bad_id: int | None = None
    problem: str | None = None
    checkpoints: int = Field(default=0, description="Signed checkpoints (outside the database) checked.")
