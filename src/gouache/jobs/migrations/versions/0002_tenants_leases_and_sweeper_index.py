"""Tenants, leases and the sweeper's index: what a cluster of nodes needs from the schema.

`tenant` holds the name of the key that created the operation ("" on a server without keys, and
for every operation a 0.1 server accepted, which had no tenants). The (status, expires) index lets
the expiry sweep and the tombstone purge read only the rows they change, however long the history.

A claimed operation holds a lease: `lease_until` (epoch seconds) is pushed forward by its worker's
heartbeats, and once it passes, any worker may claim the operation again. `attempts` (already in
0001) counts the claims and, together with `worker`, identifies one claim: only that claim may
write the result. `claimed_at` records when the current claim was made, for claim latency. The
`leases` table holds named cluster-wide roles (the expiry sweeper) that one node at a time keeps.

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
        batch.add_column(sa.Column("lease_until", sa.Float))
        batch.add_column(sa.Column("claimed_at", sa.Float))
    op.create_index("ix_operations_status_expires", "operations", ["status", "expires"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_operations_status_expires", table_name="operations")
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("lease_until")
        batch.drop_column("tenant")
