"""Progress of running operations: one row per preview a worker made.

A worker that renders a preview writes the image to image storage and a row here (which image, which
preview, how far along, the stored name); the API process that streams the operation, which may be
another process or another machine, reads the rows. Rows go with their operation when its record
is purged.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operation_progress",
        sa.Column(
            "operation_id",
            sa.String(36),
            sa.ForeignKey("operations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("image_index", sa.Integer, primary_key=True),
        sa.Column("partial_index", sa.Integer, primary_key=True),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("operation_progress")
