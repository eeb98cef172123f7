"""Cell templates: a tombstone per deleted (template id, version) with the content hash it had,
so that a deleted version cannot be published again with different content.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_tombstones",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("content_hash", sa.String(80), nullable=False),
        sa.Column("deleted_by", sa.String(255), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("template_id", "version", name="uq_template_tombstones_template_id"),
    )


def downgrade() -> None:
    op.drop_table("template_tombstones")
