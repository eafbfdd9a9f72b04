"""The operations table as gouache 0.1 created it.

A 0.1 database has this table without a version table; `gouache.jobs.migrate` recognises it by its
columns and stamps it 0001 instead of running this revision.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("deployment", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires", sa.Integer, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("user", sa.String(512)),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("size", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("result", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("images", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(64)),
    )
    op.create_index("ix_operations_queue", "operations", ["status", "deployment", "created_at"])
    op.create_index("ix_operations_expires", "operations", ["expires"])
    op.create_index("ix_operations_user", "operations", ["user", "created"])


def downgrade() -> None:
    op.drop_table("operations")
