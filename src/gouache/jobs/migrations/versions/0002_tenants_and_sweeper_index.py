"""Each operation belongs to an API key's tenant; the sweeper finds expired rows by index.

`tenant` holds the name of the key that created the operation ("" on a server without keys, and
for every operation a 0.1 server accepted, which had no tenants). The (status, expires) index lets
the expiry sweep and the tombstone purge read only the rows they change, however long the history.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("tenant", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_operations_status_expires", "operations", ["status", "expires"])


def downgrade() -> None:
    op.drop_index("ix_operations_status_expires", table_name="operations")
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("tenant")
