"""governance: incident reports, model decisions (withdrawals), AI-registry reviews

Revision ID: 0006_governance
Revises: 0005_rag
Create Date: 2026-11-23 14:07:42.892311
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_governance"
down_revision: str | None = "0005_rag"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_decisions",
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_model_decisions")),
    )
    op.create_table(
        "registry_reviews",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind", "subject_id", name=op.f("pk_registry_reviews")),
    )
    op.create_table(
        "incident_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reporter_id", sa.Uuid(), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "erreur_factuelle",
                "biais",
                "contenu_inapproprie",
                "fuite_de_donnees",
                "autre",
                name="incident_category",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("model_id", sa.String(length=128), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=True),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.Column("manifest_valid", sa.Boolean(), nullable=True),
        sa.Column("manifest_content_matches", sa.Boolean(), nullable=True),
        sa.Column("manifest_check", sa.String(length=200), nullable=True),
        sa.Column("message_ref", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "in_progress", "closed", name="incident_status", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("triage_comment", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_incident_reports_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_incident_reports_reporter_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_reports")),
    )
    with op.batch_alter_table("incident_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_reports_model_category", ["model_id", "category", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_reports_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_reports_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incident_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_reports_status"))
        batch_op.drop_index(batch_op.f("ix_incident_reports_reporter_id"))
        batch_op.drop_index("ix_incident_reports_model_category")

    op.drop_table("incident_reports")
    op.drop_table("registry_reviews")
    op.drop_table("model_decisions")
