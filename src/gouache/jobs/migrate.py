"""Schema migrations at start-up and from `gouache db upgrade`, for SQLite and PostgreSQL.

Every process that opens the database calls `ensure_schema` first. When the schema is already at
this code's head that is one small read. Otherwise the process takes the migration lock
(PostgreSQL: an advisory lock; SQLite: a file lock beside the database), so that when several
nodes start at once one of them migrates and the others find the work done. A database written by
gouache 0.1 (created without a version table) is recognised and adopted as revision 0001. A
database migrated by a newer gouache is refused: running old code on a new schema could lose data.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from gouache import __version__
from gouache.errors import ConfigError
from gouache.jobs.database import reason, shown_url, sqlite_path, sqlite_pragmas, unavailable

log = logging.getLogger("gouache.migrations")

VERSION_TABLE = "gouache_schema_version"
"""Where the revision is kept; named for gouache so it can share a database with other apps."""

MIGRATIONS = Path(__file__).with_name("migrations")
ADVISORY_LOCK_KEY = 0x676F7561636865  # "gouache" in ASCII: the same key on every node
ADOPTED_REVISION = "0001"
COLUMNS_0_1 = frozenset(
    [
        "id",
        "deployment",
        "status",
        "created",
        "created_at",
        "expires",
        "finished_at",
        "user",
        "n",
        "size",
        "prompt",
        "params",
        "result",
        "error",
        "attempts",
        "images",
        "worker",
    ]
)
"""The columns of the `operations` table gouache 0.1 made with `create_all`, no version table."""


class SchemaNewerThanCode(ConfigError):
    """The database was migrated by a newer gouache than this one."""

    code = "schemaNewerThanCode"


@dataclass(frozen=True)
class SchemaState:
    """What `upgrade` found and did: revisions before and after, those it applied."""

    before: str | None
    after: str | None
    applied: list[str] = field(default_factory=list)
    adopted: bool = False

    @property
    def changed(self) -> bool:
        return self.adopted or bool(self.applied)


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = _script().get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has none (empty, or made by gouache 0.1)."""
    try:
        with engine.connect() as conn:
            return _read_revision(conn)
    except DBAPIError as exc:
        raise unavailable(engine, exc) from None


def has_0_1_schema(engine: Engine) -> bool:
    """Whether the database holds a gouache 0.1 `operations` table with no version table."""
    try:
        with engine.connect() as conn:
            return _read_revision(conn) is None and _unversioned_operations(conn)
    except DBAPIError as exc:
        raise unavailable(engine, exc) from None


def ensure_schema(engine: Engine, *, migrate: bool = True) -> SchemaState:
    """Bring the database to this code's head before serving, or refuse to start.

    With `migrate=False` (nodes that must not change the schema) anything but the head is an
    error that says to run `gouache db upgrade`.
    """
    head = head_revision()
    current = current_revision(engine)
    check_known(engine, current)
    if current == head:
        return SchemaState(before=current, after=current)
    if not migrate:
        raise ConfigError(
            f"the database {shown_url(engine.url)} is at schema revision {current or 'none'} and "
            f"this gouache needs {head}; run `gouache db upgrade --database URL` first"
        )
    state = upgrade(engine)
    if state.adopted:
        log.info("adopted the gouache 0.1 database as schema revision %s", ADOPTED_REVISION)
    if state.applied:
        log.info("migrated the database to %s (applied %s)", state.after, ", ".join(state.applied))
    return state


def upgrade(engine: Engine) -> SchemaState:
    """Migrate to head under the migration lock; adopts a 0.1 database first, refuses a newer one.

    The revision is read again once the lock is held: a node that waited finds the work done by
    the one that held the lock, and applies nothing.
    """
    script = _script()
    try:
        with _migration_connection(engine) as conn, _migration_lock(conn, engine):
            before = _read_revision(conn)
            check_known(engine, before)
            adopted = False
            if before is None and _unversioned_operations(conn):
                _check_0_1_columns(engine, conn)
                conn.commit()
                command.stamp(_config(conn), ADOPTED_REVISION)
                adopted, before = True, ADOPTED_REVISION
            conn.commit()
            command.upgrade(_config(conn), "head")
            after = _read_revision(conn)
            conn.commit()
    except OperationalError as exc:
        raise unavailable(engine, exc) from None
    except DBAPIError as exc:
        raise _migration_failed(engine, exc) from None
    applied = (
        [rev.revision for rev in reversed(list(script.iterate_revisions(after, before)))]
        if after != before
        else []
    )
    return SchemaState(before=before, after=after, applied=applied, adopted=adopted)


def check_known(engine: Engine, revision: str | None) -> None:
    """Raise `SchemaNewerThanCode` when this code does not know the database's revision."""
    if revision is None:
        return
    try:
        _script().get_revision(revision)
    except CommandError:
        raise SchemaNewerThanCode(
            f"the database {shown_url(engine.url)} is at schema revision {revision!r}, which "
            f"gouache {__version__} does not know (its newest is {head_revision()!r}): a newer "
            "gouache has migrated it. Upgrade gouache on this machine to the version the other "
            "nodes run (pip install -U gouache); an older gouache must not write to a newer schema"
        ) from None


def sqlite_lock_path(database: Path) -> Path:
    """The file whose lock serialises migrations of one SQLite database."""
    return database.with_name(database.name + "-migrate.lock")


# -- internals --------------------------------------------------------------------------------


def _migration_failed(engine: Engine, exc: DBAPIError) -> ConfigError:
    hint = ""
    if "permission denied" in str(exc.orig).lower():
        hint = (
            " The URL's user must be able to create tables: make it the database's owner "
            "(createdb --owner USER NAME) or GRANT CREATE ON SCHEMA public TO USER."
        )
    return ConfigError(
        f"could not migrate the database {shown_url(engine.url)}: {reason(engine, exc)}. Each "
        f"revision applies whole or not at all, so the last one begun was rolled back.{hint}"
    )


def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def _read_revision(conn: Connection) -> str | None:
    heads = MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE}
    ).get_current_heads()
    if len(heads) > 1:
        raise ConfigError(
            f"the database has several schema revisions at once ({', '.join(heads)}); gouache "
            "keeps one line of migrations, so this version table was edited by hand"
        )
    return heads[0] if heads else None


def _unversioned_operations(conn: Connection) -> bool:
    return inspect(conn).has_table("operations")


def _check_0_1_columns(engine: Engine, conn: Connection) -> None:
    found = {column["name"] for column in inspect(conn).get_columns("operations")}
    if found != COLUMNS_0_1:
        extra = ", ".join(sorted(found - COLUMNS_0_1)) or "none"
        missing = ", ".join(sorted(COLUMNS_0_1 - found)) or "none"
        raise ConfigError(
            f"the database {shown_url(engine.url)} has an `operations` table but no "
            f"{VERSION_TABLE} table, and its columns are not those of gouache 0.1 (extra: "
            f"{extra}; missing: {missing}). gouache adopts only a 0.1 database; point --database "
            "at a gouache database or an empty one"
        )


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """PostgreSQL: a connection from the engine's pool. SQLite: a connection of its own in
    explicit-transaction mode (`BEGIN IMMEDIATE`), so that each revision's DDL and its version
    update commit together or not at all, which the sqlite3 module's default mode does not do."""
    path = sqlite_path(engine.url)
    if path is None:
        with engine.connect() as conn:
            yield conn
        return
    migration_engine = create_engine(engine.url, poolclass=NullPool)

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        sqlite_pragmas(dbapi_connection, record)
        dbapi_connection.isolation_level = None

    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(migration_engine, "connect", on_connect)
    event.listen(migration_engine, "begin", on_begin)
    try:
        with migration_engine.connect() as conn:
            yield conn
    finally:
        migration_engine.dispose()


@contextmanager
def _migration_lock(conn: Connection, engine: Engine) -> Iterator[None]:
    path = sqlite_path(engine.url)
    if path is None:
        with _advisory_lock(conn):
            yield
        return
    with open(sqlite_lock_path(path), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for the migration lock (%s)", sqlite_lock_path(path))
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(conn: Connection) -> Iterator[None]:
    """A session-level advisory lock: it outlives the per-revision commits, and the server
    releases it by itself if this process dies mid-migration."""
    key = {"key": ADVISORY_LOCK_KEY}
    if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one():
        log.info("waiting for the migration lock (another node is migrating)")
        conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
    conn.commit()
    try:
        yield
    finally:
        if conn.in_transaction():
            conn.rollback()
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        conn.commit()
