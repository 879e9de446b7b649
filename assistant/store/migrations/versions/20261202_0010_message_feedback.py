"""message feedback: one 👍/👎 per user per answer, with its reason, comment, model, preset and sources

Revision ID: 0010_message_feedback
Revises: 0009_app_role
Create Date: 2026-12-02 15:20:00.000000

A new table only: nothing existing changes. Its rows go with their message (ON DELETE CASCADE, and explicitly in
``store.conversations.delete_conversation`` for SQLite connections without foreign keys) and with their author.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_message_feedback"
down_revision: str | None = "0009_app_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "rating", sa.Enum("up", "down", name="feedback_rating", native_enum=False, length=10), nullable=False
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "inexact",
                "incomplet",
                "hors_sujet",
                "biais",
                "sources_mal_citees",
                "autre",
                name="feedback_reason",
                native_enum=False,
                length=30,
            ),
            nullable=True,
        ),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.Column("model_id", sa.String(length=200), nullable=True),
        sa.Column("preset", sa.String(length=100), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident_reports.id"],
            name=op.f("fk_message_feedback_incident_id_incident_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["conversation_messages.id"],
            name=op.f("fk_message_feedback_message_id_conversation_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_message_feedback_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_feedback")),
        sa.UniqueConstraint("message_id", "user_id", name=op.f("uq_message_feedback_message_id")),
    )
    with op.batch_alter_table("message_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_message_feedback_model_updated", ["model_id", "updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_feedback_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_feedback_user_id"))
        batch_op.drop_index("ix_message_feedback_model_updated")

    op.drop_table("message_feedback")
