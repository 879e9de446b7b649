"""glossaries: the administration's vocabulary per user and per group, and the glossary each transcription got

Revision ID: 0018_glossaries
Revises: 0017_batches
Create Date: 2026-12-03 17:00:00.000000

New tables only: nothing existing changes. An entry goes with its owner's account or its group, a transcription's
frozen glossary with the transcription (ON DELETE CASCADE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_glossaries"
down_revision: str | None = "0017_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "glossary_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("term_key", sa.String(length=100), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("edited_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("(owner_id IS NULL) <> (group_id IS NULL)", name=op.f("ck_glossary_entries_one_scope")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_glossary_entries_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_glossary_entries_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_glossary_entries")),
        sa.UniqueConstraint("group_id", "term_key", name="uq_glossary_entries_group_term"),
        sa.UniqueConstraint("owner_id", "term_key", name="uq_glossary_entries_owner_term"),
    )
    with op.batch_alter_table("glossary_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_glossary_entries_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_glossary_entries_owner_id"), ["owner_id"], unique=False)
    op.create_table(
        "transcription_glossaries",
        sa.Column("transcription_id", sa.Uuid(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transcription_id"],
            ["transcriptions.id"],
            name=op.f("fk_transcription_glossaries_transcription_id_transcriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transcription_id", name=op.f("pk_transcription_glossaries")),
    )


def downgrade() -> None:
    op.drop_table("transcription_glossaries")
    with op.batch_alter_table("glossary_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_entries_owner_id"))
        batch_op.drop_index(batch_op.f("ix_glossary_entries_group_id"))
    op.drop_table("glossary_entries")
