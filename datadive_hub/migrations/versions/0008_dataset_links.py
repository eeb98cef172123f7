"""Datasets linked from other projects, pinned to a stored version (issue 12).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_links",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column(
            "project_id",
            sa.String(32),
            sa.ForeignKey(
                "projects.id", ondelete="CASCADE", name="fk_dataset_links_project_id_projects"
            ),
            nullable=False,
        ),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column(
            "source_project_id",
            sa.String(32),
            sa.ForeignKey(
                "projects.id",
                ondelete="CASCADE",
                name="fk_dataset_links_source_project_id_projects",
            ),
            nullable=False,
        ),
        sa.Column("source_path", sa.String(1024), nullable=False),
        sa.Column("version_id", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(255), nullable=False),
        sa.Column("modified", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("pinned_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_links"),
        sa.UniqueConstraint("project_id", "path", name="uq_dataset_links_project_id"),
    )
    op.create_index("ix_dataset_links_project_id", "dataset_links", ["project_id"])
    op.create_index("ix_dataset_links_source_project_id", "dataset_links", ["source_project_id"])


def downgrade() -> None:
    op.drop_index("ix_dataset_links_source_project_id", table_name="dataset_links")
    op.drop_index("ix_dataset_links_project_id", table_name="dataset_links")
    op.drop_table("dataset_links")
