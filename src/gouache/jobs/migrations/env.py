"""Alembic's environment: runs the revisions on the connection `gouache.jobs.migrate` hands over.

Each revision runs in its own transaction together with its version-table update, so a failed
revision leaves the database at the previous one. SQLite gets transactional DDL too: the migration
connection is opened in explicit-transaction mode by `gouache.jobs.migrate`.
"""

from __future__ import annotations

from alembic import context

from gouache.jobs.migrate import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "gouache migrations run on a connection given by gouache.jobs.migrate; "
        "use `gouache db upgrade --database URL` rather than the alembic command"
    )

context.configure(
    connection=connection,
    target_metadata=None,
    version_table=VERSION_TABLE,
    transaction_per_migration=True,
    transactional_ddl=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
