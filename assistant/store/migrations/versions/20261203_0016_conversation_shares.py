"""conversation shares: a conversation shared with named users and groups, read-only or as a copy to continue

Revision ID: 0016_conversation_shares
Revises: 0015_comparisons
Create Date: 2026-12-03 16:00:00.000000

New tables only: nothing existing changes. A share goes with its conversation and with its owner's account, its
recipients with their account or group (ON DELETE CASCADE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_conversation_shares"
down_revision: str | None = "0015_comparisons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_shares",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.Enum("snapshot", "copy", name="share_mode", native_enum=False, length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_shares_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_conversation_shares_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_shares")),
    )
    with op.batch_alter_table("conversation_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_shares_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index("ix_conversation_shares_owner_created", ["owner_id", "created_at"], unique=False)
    op.create_table(
        "conversation_share_users",
        sa.Column("share_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["conversation_shares.id"],
            name=op.f("fk_conversation_share_users_share_id_conversation_shares"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_conversation_share_users_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("share_id", "user_id", name=op.f("pk_conversation_share_users")),
    )
    with op.batch_alter_table("conversation_share_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_share_users_user_id"), ["user_id"], unique=False)
    op.create_table(
        "conversation_share_groups",
        sa.Column("share_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_conversation_share_groups_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["conversation_shares.id"],
            name=op.f("fk_conversation_share_groups_share_id_conversation_shares"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("share_id", "group_id", name=op.f("pk_conversation_share_groups")),
    )
    with op.batch_alter_table("conversation_share_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_share_groups_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation_share_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_share_groups_group_id"))
    op.drop_table("conversation_share_groups")
    with op.batch_alter_table("conversation_share_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_share_users_user_id"))
    op.drop_table("conversation_share_users")
    with op.batch_alter_table("conversation_shares", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_shares_owner_created")
        batch_op.drop_index(batch_op.f("ix_conversation_shares_conversation_id"))
    op.drop_table("conversation_shares")
