"""transcriptions (uploads, jobs, transcripts) and their minutes

Revision ID: 0007_transcription
Revises: 0006_governance
Create Date: 2026-11-23 14:05:37.834643
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_transcription"
down_revision: str | None = "0006_governance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transcriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("audio_path", sa.String(length=500), nullable=True),
        sa.Column("keep_audio", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("diarize", sa.Boolean(), nullable=False),
        sa.Column("num_speakers", sa.Integer(), nullable=True),
        sa.Column("detected_language", sa.String(length=10), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=True),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_transcriptions_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_transcriptions_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcriptions")),
    )
    with op.batch_alter_table("transcriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transcriptions_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transcriptions_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "transcription_minutes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("transcription_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("minutes", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_transcription_minutes_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["transcription_id"],
            ["transcriptions.id"],
            name=op.f("fk_transcription_minutes_transcription_id_transcriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcription_minutes")),
        sa.UniqueConstraint("transcription_id", name=op.f("uq_transcription_minutes_transcription_id")),
    )
    with op.batch_alter_table("transcription_minutes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transcription_minutes_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transcription_minutes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcription_minutes_owner_id"))

    op.drop_table("transcription_minutes")
    with op.batch_alter_table("transcriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcriptions_owner_id"))
        batch_op.drop_index(batch_op.f("ix_transcriptions_job_id"))

    op.drop_table("transcriptions")
