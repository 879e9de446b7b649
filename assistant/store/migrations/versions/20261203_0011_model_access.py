"""model access per group: models the référent reserved to some groups, and those groups

Revision ID: 0011_model_access
Revises: 0010_message_feedback
Create Date: 2026-12-03 13:20:00.000000

New tables only: nothing existing changes, and a model without a rule stays open to every user who may chat, so an
existing database serves exactly the same models after the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_model_access"
down_revision: str | None = "0010_message_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_access_rules",
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_model_access_rules")),
    )
    op.create_table(
        "model_access_groups",
        sa.Column("model_id", sa.String(length=128), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_model_access_groups_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["model_access_rules.model_id"],
            name=op.f("fk_model_access_groups_model_id_model_access_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "group_id", name=op.f("pk_model_access_groups")),
    )
    with op.batch_alter_table("model_access_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_access_groups_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("model_access_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_access_groups_group_id"))
    op.drop_table("model_access_groups")
    op.drop_table("model_access_rules")
