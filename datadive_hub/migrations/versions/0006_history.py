"""History of project files: authors of versions, the trash, named snapshots (issue 13).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _project_fk(table: str) -> sa.Column[Any]:
    return sa.Column(
        "project_id",
        sa.String(32),
        sa.ForeignKey("projects.id", ondelete="CASCADE", name=f"fk_{table}_project_id_projects"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "file_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _project_fk("file_versions"),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("version_id", sa.String(255), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_file_versions"),
    )
    op.create_index("ix_file_versions_project_id", "file_versions", ["project_id"])
    op.create_index(
        "ix_file_versions_project_version", "file_versions", ["project_id", "version_id"]
    )
    op.create_table(
        "trash",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _project_fk("trash"),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("deleted_by", sa.String(255), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=False),
        sa.Column("restored_by", sa.String(255), nullable=True),
        sa.Column("restored_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trash"),
    )
    op.create_index("ix_trash_project_id", "trash", ["project_id"])
    op.create_index("ix_trash_project_open", "trash", ["project_id", "restored_at", "id"])
    op.create_table(
        "snapshots",
        sa.Column("id", sa.String(32), nullable=False),
        _project_fk("snapshots"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("manifest_key", sa.String(1024), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_snapshots"),
        sa.UniqueConstraint("project_id", "name", name="uq_snapshots_project_id"),
    )
    op.create_index("ix_snapshots_project_id", "snapshots", ["project_id"])


def downgrade() -> None:
    op.drop_table("snapshots")
    op.drop_table("trash")
    op.drop_table("file_versions")
