"""Memberships carry their project's name key, indexed per principal in name order, so that a
page of "my projects" is an index range scan however many projects the hub holds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(
            sa.Column("project_key", sa.String(100), nullable=False, server_default="")
        )
    op.execute(
        "UPDATE memberships SET project_key = "
        "(SELECT name_key FROM projects WHERE projects.id = memberships.project_id)"
    )
    op.create_index(
        "ix_memberships_principal_order",
        "memberships",
        ["name", "kind", "project_key", "project_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_principal_order", table_name="memberships")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("project_key")
