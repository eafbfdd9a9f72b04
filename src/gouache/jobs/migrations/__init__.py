"""Alembic migrations of the operation store, shipped with the package and run from code
(`gouache.jobs.migrate`); no alembic.ini is needed. New revisions go in versions/, one file each,
numbered 0002, 0003, ...; on SQLite, alter tables with `op.batch_alter_table`."""
