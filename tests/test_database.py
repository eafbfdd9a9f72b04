"""Database URLs and engines: both backends connect with their settings; bad URLs and unreachable
servers are clear errors that never show the password."""

from __future__ import annotations

import socket
import traceback
from pathlib import Path

import pytest
from sqlalchemy import text

from gouache.errors import ConfigError
from gouache.jobs.database import (
    DatabaseUnavailable,
    check_connection,
    create_database_engine,
    default_url,
    parse_url,
    sqlite_path,
)
from gouache.settings import load_settings

PASSWORD = "s3cret-Pw"


def _everything_shown(exc: BaseException) -> str:
    """The message, and the whole traceback as a log would print it, chained causes included."""
    return str(exc) + "".join(traceback.format_exception(exc))


def test_sqlite_engine_sets_wal_and_busy_timeout(tmp_path: Path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
    finally:
        engine.dispose()
    assert (tmp_path / "a.db").exists()


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://u:pw@db.example:5432/gouache",
        "postgres://u:pw@db.example:5432/gouache",
        "postgresql+psycopg://u:pw@db.example:5432/gouache",
    ],
)
def test_postgresql_urls_use_psycopg_3(given: str):
    url = parse_url(given)
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.database, url.password) == ("db.example", 5432, "gouache", "pw")


def test_postgresql_engine_connects_as_gouache(postgres_url: str):
    engine = create_database_engine(postgres_url)
    try:
        with engine.connect() as conn:
            name, application = conn.execute(
                text("SELECT current_database(), current_setting('application_name')")
            ).one()
    finally:
        engine.dispose()
    assert postgres_url.endswith("/" + name)
    assert application == "gouache"


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (f"mysql://root:{PASSWORD}@db/gouache", "uses 'mysql', which gouache does not support"),
        (f"postgresql+asyncpg://u:{PASSWORD}@db/gouache", "leave the driver out of the scheme"),
        (f"postgresql://u:{PASSWORD}@db:fivefourthreetwo/gouache", "cannot be read"),
        (f"postgresql://u:{PASSWORD}@db:5432", "names no database"),
        (f"postgresql://u:{PASSWORD}@/gouache", "names no host"),
        ("gouache.db", "cannot be read"),
        ("sqlite://", "names no file"),
        ("sqlite:///:memory:", "names no file"),
    ],
)
def test_bad_urls_say_what_is_accepted_and_hide_the_password(given: str, words: str):
    with pytest.raises(ConfigError, match=words) as caught:
        create_database_engine(given)
    shown = _everything_shown(caught.value)
    assert PASSWORD not in shown
    if given.startswith(("mysql", "gouache")):
        assert "sqlite:///path/to/file.db or postgresql://" in caught.value.message


def test_sqlite_in_a_missing_folder_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="the folder .*missing.* does not exist"):
        create_database_engine(f"sqlite:///{tmp_path / 'missing' / 'gouache.db'}")
    assert not (tmp_path / "missing").exists()


def test_unreachable_server_names_host_and_port_but_not_the_password():
    with socket.socket() as sock:  # a port nothing listens on: bound here, never accepting
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        engine = create_database_engine(f"postgresql://gouache:{PASSWORD}@127.0.0.1:{port}/gouache")
        with pytest.raises(DatabaseUnavailable) as caught:
            check_connection(engine)
    message = caught.value.message
    assert f"127.0.0.1:{port}" in message
    assert "Check that the server is running" in message
    assert PASSWORD not in _everything_shown(caught.value)
    assert caught.value.status_code == 503


def test_default_database_is_gouache_db_in_the_data_dir():
    assert sqlite_path(parse_url(default_url(Path("/srv/data")))) == Path("/srv/data/gouache.db")
    assert sqlite_path(parse_url(default_url(Path(".gouache")))) == Path(".gouache/gouache.db")


def test_database_setting_comes_from_the_environment():
    url = "postgresql://gouache@db:5432/gouache"
    assert load_settings(environ={"GOUACHE_DATABASE": url}).database == url
    assert load_settings(environ={}).database == ""


def test_sqlite_path_that_is_not_a_database_file_says_what_to_check(tmp_path: Path):
    (tmp_path / "gouache.db").mkdir()
    engine = create_database_engine(f"sqlite:///{tmp_path / 'gouache.db'}")
    with pytest.raises(DatabaseUnavailable, match="cannot use the SQLite database") as caught:
        check_connection(engine)
    assert "this user can write it and its folder" in caught.value.message
