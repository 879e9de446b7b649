"""charter: usage charter versions and acceptances, forbidden-use guard rule sets

Revision ID: 0008_charter
Revises: 0007_transcription
Create Date: 2026-11-23 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_charter"
down_revision: str | None = "0007_transcription"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "charter_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_charter_versions")),
    )
    op.create_table(
        "guard_rule_sets",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_guard_rule_sets")),
    )
    op.create_table(
        "charter_acceptances",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_charter_acceptances_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version"],
            ["charter_versions.version"],
            name=op.f("fk_charter_acceptances_version_charter_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "version", name=op.f("pk_charter_acceptances")),
    )
    op.create_index("ix_charter_acceptances_version", "charter_acceptances", ["version", "accepted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_charter_acceptances_version", table_name="charter_acceptances")
    op.drop_table("charter_acceptances")
    op.drop_table("guard_rule_sets")
    op.drop_table("charter_versions")
