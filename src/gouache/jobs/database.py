"""Database URLs and engines: a SQLite file on one machine, PostgreSQL for a cluster.

One function turns the `database` setting into a SQLAlchemy engine with the settings each backend
needs (SQLite: WAL and a busy timeout; PostgreSQL: psycopg 3 and a checked pool). A bad URL is a
`ConfigError` that says which forms are accepted; an unreachable server is a `DatabaseUnavailable`.
Neither message ever contains the password.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from gouache.errors import ConfigError, ServiceUnavailable

SQLITE_FILE_NAME = "gouache.db"
"""The database file `gouache serve` keeps in its data dir when no `database` URL is set."""

URL_FORMS = "sqlite:///path/to/file.db or postgresql://user:password@host:5432/name"
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
_CREDENTIALS = re.compile(r"(?P<head>://[^:/@\s]*:)(?P<password>\S*)@")


class DatabaseUnavailable(ServiceUnavailable):
    """The database server did not answer, or refused the connection."""

    code = "databaseUnavailable"


def redact(text: str) -> str:
    """`text` with the password of any `scheme://user:password@` in it replaced by `***`."""
    return _CREDENTIALS.sub(r"\g<head>***@", text)


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite file, relative paths kept relative (`sqlite:///` + path)."""
    return f"sqlite:///{path}"


def default_url(data_dir: Path) -> str:
    """The database `gouache serve` uses when none is configured: gouache.db in the data dir."""
    return sqlite_url(Path(data_dir) / SQLITE_FILE_NAME)


def parse_url(text: str) -> URL:
    """Check a database URL and name its driver: psycopg 3 for PostgreSQL, pysqlite for SQLite.

    `postgresql://` and `postgres://` become `postgresql+psycopg://`; other drivers are refused
    rather than silently swapped, since their connection options differ.
    """
    shown = redact(text.strip())
    try:
        url = make_url(text.strip())
        url.port  # noqa: B018 - a non-numeric port fails here, not later at connect time
    except (ArgumentError, ValueError):
        # not chained: the parser's own message repeats the URL, password included
        raise ConfigError(f"database URL {shown!r} cannot be read; use {URL_FORMS}") from None
    scheme = url.drivername
    if scheme == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ConfigError(
                f"database URL {shown!r} names no file: an in-memory database would lose every "
                "operation when the process ends and cannot be shared with workers. Use "
                "sqlite:///path/to/file.db (four slashes for an absolute path: sqlite:////srv/gouache.db)"
            )
        return url
    if scheme in _POSTGRES_SCHEMES:
        if not url.database:
            raise ConfigError(
                f"database URL {shown!r} names no database; add it after the host: "
                "postgresql://user:password@host:5432/gouache"
            )
        if not url.host and "host" not in url.query:
            raise ConfigError(
                f"database URL {shown!r} names no host; use postgresql://user:password@host:5432/name"
            )
        return url.set(drivername="postgresql+psycopg")
    raise ConfigError(
        f"database URL {shown!r} uses {scheme!r}, which gouache does not support; use {URL_FORMS} "
        "(PostgreSQL is reached through psycopg 3; leave the driver out of the scheme)"
    )


def shown_url(url: URL | str) -> str:
    """The URL as it may appear in logs and messages: password hidden."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return redact(url)


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for any other backend."""
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database)


def create_database_engine(
    url: str | URL, *, pool_size: int | None = None, max_overflow: int | None = None
) -> Engine:
    """An engine for the `database` setting; no connection is made until first use.

    SQLite gets the pragmas the store has always used on every connection. PostgreSQL gets
    `pool_pre_ping` (a node survives a database restart without failing its next request),
    connections recycled every 30 minutes (load balancers and PgBouncer drop idle ones), a
    10-second connect timeout and `application_name=gouache` so operators can find its sessions.
    Pools default to 8 + 16 overflow connections on SQLite (as the store has always had) and 5 + 10
    on PostgreSQL, where every node's pool counts against the server's `max_connections`.
    """
    if isinstance(url, str):
        url = parse_url(url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        assert path is not None
        if not path.parent.is_dir():
            raise ConfigError(
                f"database {shown_url(url)}: the folder {path.parent} does not exist; create it "
                "or point the URL at an existing folder"
            )
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            pool_size=8 if pool_size is None else pool_size,
            max_overflow=16 if max_overflow is None else max_overflow,
        )
        event.listen(engine, "connect", sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {"connect_timeout": 10, "application_name": "gouache"}
    connect_args.update({k: v for k, v in url.query.items() if k in connect_args})
    return create_engine(
        url.difference_update_query(connect_args),
        connect_args=connect_args,
        pool_size=5 if pool_size is None else pool_size,
        max_overflow=10 if max_overflow is None else max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """Set on every SQLite connection: WAL so readers never block the writer, and a busy timeout
    so a writer waits for another instead of failing at once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives any process crash (SIGKILL included); only an OS crash or power
    # loss can drop the last transactions. FULL would fsync every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def reason(engine: Engine, exc: DBAPIError) -> str:
    """The driver's own first line about a failure, with the password taken out."""
    text = str(exc.orig).strip() if exc.orig is not None else str(exc)
    text = text.splitlines()[0] if text else type(exc).__name__
    password = engine.url.password
    if password:
        text = text.replace(str(password), "***")
    return redact(text)


def unavailable(engine: Engine, exc: DBAPIError) -> DatabaseUnavailable:
    """A failure to open or write the database as a message an operator can act on."""
    path = sqlite_path(engine.url)
    if path is not None:
        return DatabaseUnavailable(
            f"cannot use the SQLite database {path}: {reason(engine, exc)}. Check that the path "
            "names a database file (or nothing yet) and that this user can write it and its folder."
        )
    return DatabaseUnavailable(
        f"cannot reach the database {shown_url(engine.url)}: {reason(engine, exc)}. Check that "
        "the server is running and that the URL's host, port, user, password and database name "
        "are right."
    )


def check_connection(engine: Engine) -> None:
    """Connect once, so that a wrong URL stops a process at start rather than at first request."""
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise unavailable(engine, exc) from None
