"""prompt library: personal and published prompts, the groups they are published to, versions and uses

Revision ID: 0013_prompt_library
Revises: 0012_projects
Create Date: 2026-12-03 14:20:00.000000

New tables only: nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_prompt_library"
down_revision: str | None = "0012_projects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prompts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_prompts_owner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
    )
    with op.batch_alter_table("prompts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompts_owner_id"), ["owner_id"], unique=False)
    op.create_table(
        "prompt_groups",
        sa.Column("prompt_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_prompt_groups_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_prompt_groups_prompt_id_prompts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("prompt_id", "group_id", name=op.f("pk_prompt_groups")),
    )
    with op.batch_alter_table("prompt_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompt_groups_group_id"), ["group_id"], unique=False)
    op.create_table(
        "prompt_versions",
        sa.Column("prompt_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.String(length=200), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_prompt_versions_prompt_id_prompts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("prompt_id", "version", name=op.f("pk_prompt_versions")),
    )
    op.create_table(
        "prompt_uses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("prompt_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("surface", sa.String(length=20), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_prompt_uses_prompt_id_prompts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_prompt_uses_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_uses")),
    )
    with op.batch_alter_table("prompt_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompt_uses_prompt_id"), ["prompt_id"], unique=False)
        batch_op.create_index("ix_prompt_uses_used_at", ["used_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prompt_uses", schema=None) as batch_op:
        batch_op.drop_index("ix_prompt_uses_used_at")
        batch_op.drop_index(batch_op.f("ix_prompt_uses_prompt_id"))
    op.drop_table("prompt_uses")
    op.drop_table("prompt_versions")
    with op.batch_alter_table("prompt_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_groups_group_id"))
    op.drop_table("prompt_groups")
    with op.batch_alter_table("prompts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompts_owner_id"))
    op.drop_table("prompts")
