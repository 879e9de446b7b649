"""Privileges of the service's PostgreSQL role: read/write on its tables, append-only on the audit log.

Migrations connect as the schema owner; the service connects as another role. A table owner can TRUNCATE it,
disable or drop its triggers and rewrite it; a role granted only INSERT and SELECT on ``audit_events`` can do
none of that, so an intruder holding the service's credentials cannot quietly rewrite the log.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection

from assistant.errors import ConfigurationError

__all__ = ["grant_app_role"]

logger = logging.getLogger(__name__)

# Tables the service may only append to and read; everything else it reads and writes.
_APPEND_ONLY_TABLES = ("audit_events",)
_READ_ONLY_TABLES = ("alembic_version",)


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def grant_app_role(connection: Connection, role: str) -> None:
    """Create ``role`` (NOLOGIN: ops give it a login and a password) if missing, and grant it its privileges.

    Idempotent, so it runs after every upgrade and covers tables created since. Refuses a role that owns the
    schema: separating duties is the whole point.
    """
    if connection.dialect.name != "postgresql":
        return
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
    if exists is None:
        logger.warning("creating PostgreSQL role %s (NOLOGIN): give it LOGIN and a password", role)
        connection.execute(text(f"CREATE ROLE {_quote(connection, role)} NOLOGIN"))
    current = connection.execute(text("SELECT current_user")).scalar_one()
    if current == role:
        raise ConfigurationError(
            f"SOUVERAIN_DATABASE_APP_ROLE ({role}) is the role migrations run as: migrate with the schema owner "
            "(SOUVERAIN_DATABASE_MIGRATION_URL) and let the service connect as the application role"
        )
    schema = _quote(connection, connection.execute(text("SELECT current_schema()")).scalar_one())
    who = _quote(connection, role)
    statements = [
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
        # Tables and sequences later migrations create (as this owner) get the same grants.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {who}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {schema} FROM {who}",
    ]
    for table in _APPEND_ONLY_TABLES:
        statements += [f"REVOKE ALL ON {_quote(connection, table)} FROM {who}"]
        statements += [f"GRANT SELECT, INSERT ON {_quote(connection, table)} TO {who}"]
    for table in _READ_ONLY_TABLES:
        statements += [f"REVOKE ALL ON {_quote(connection, table)} FROM {who}"]
        statements += [f"GRANT SELECT ON {_quote(connection, table)} TO {who}"]
    for statement in statements:
        connection.execute(text(statement))
