"""comparisons: one question put to two models side by side, both labelled answers and the agent's vote

Revision ID: 0015_comparisons
Revises: 0014_knowledge_sources
Create Date: 2026-12-03 15:00:00.000000

A new table only: nothing existing changes. Its rows go with their author's account (ON DELETE CASCADE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_comparisons"
down_revision: str | None = "0014_knowledge_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comparisons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("model_a", sa.String(length=200), nullable=False),
        sa.Column("model_b", sa.String(length=200), nullable=False),
        sa.Column("answer_a", sa.Text(), nullable=False),
        sa.Column("answer_b", sa.Text(), nullable=False),
        sa.Column("provenance_a", sa.JSON(), nullable=True),
        sa.Column("provenance_b", sa.JSON(), nullable=True),
        sa.Column("manifest_a", sa.JSON(), nullable=True),
        sa.Column("manifest_b", sa.JSON(), nullable=True),
        sa.Column("energy_wh_a", sa.Double(), nullable=False),
        sa.Column("energy_wh_b", sa.Double(), nullable=False),
        sa.Column("gco2e_a", sa.Double(), nullable=False),
        sa.Column("gco2e_b", sa.Double(), nullable=False),
        sa.Column("tokens_a", sa.Integer(), nullable=False),
        sa.Column("tokens_b", sa.Integer(), nullable=False),
        sa.Column(
            "vote",
            sa.Enum("a", "b", "equivalent", name="comparison_vote", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_comparisons_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparisons")),
    )
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comparisons_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_comparisons_user_created", ["user_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_comparisons_voted_at"), ["voted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comparisons_voted_at"))
        batch_op.drop_index("ix_comparisons_user_created")
        batch_op.drop_index(batch_op.f("ix_comparisons_created_at"))

    op.drop_table("comparisons")
