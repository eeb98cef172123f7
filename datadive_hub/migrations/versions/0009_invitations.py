"""Guests (external collaborators) and the invitations that bind them to projects.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "project_id",
            sa.String(32),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("used_at", sa.DateTime, nullable=True),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
        sa.Column(
            "guest_id",
            sa.String(32),
            sa.ForeignKey("guests.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("accepted_by", sa.String(255), nullable=True),
    )
    op.create_index("ix_invitations_project_id", "invitations", ["project_id"])
    op.create_index("ix_invitations_guest_id", "invitations", ["guest_id"])


def downgrade() -> None:
    op.drop_index("ix_invitations_guest_id", table_name="invitations")
    op.drop_index("ix_invitations_project_id", table_name="invitations")
    op.drop_table("invitations")
    op.drop_table("guests")
