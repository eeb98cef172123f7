"""The names a file had: history follows a file across renames and moves.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_names",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "project_id",
            sa.String(32),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("file_id", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("first_version", sa.String(255), nullable=True),
        sa.Column("last_version", sa.String(255), nullable=True),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("renamed_by", sa.String(255), nullable=True),
        sa.Column("renamed_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_file_names_path", "file_names", ["project_id", "path"])
    op.create_index("ix_file_names_file", "file_names", ["project_id", "file_id"])


def downgrade() -> None:
    op.drop_index("ix_file_names_file", table_name="file_names")
    op.drop_index("ix_file_names_path", table_name="file_names")
    op.drop_table("file_names")
