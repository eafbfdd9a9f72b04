"""PostgreSQL for the tests: a fresh database per test on a real server, dropped afterwards.

The server is the one at 127.0.0.1:5432 (user postgres, trust auth), or GOUACHE_TEST_POSTGRES_URL.
When none answers, a throwaway cluster is started with the `initdb` and `pg_ctl` found under
/usr/lib/postgresql/*/bin and stopped at the end of the session. When that is impossible too, the
PostgreSQL tests skip with the reason, except under CI, where they fail: CI installs PostgreSQL.

`database_url` runs a test once on a SQLite file and once on PostgreSQL; it is the fixture to add to
any store test that must hold on both backends.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ENV = "GOUACHE_TEST_POSTGRES_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]


def libpq_url(url: str, database: str | None = None) -> str:
    """`url` as psycopg takes it (no `+driver`), optionally naming another database."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def probe(url: str) -> str | None:
    """None when a server answers at `url`, else why not."""
    import psycopg

    try:
        with psycopg.connect(libpq_url(url), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary folder, on a free port, trust auth, no fsync."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="gouache-pg-"))
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        # initdb refuses to run as root: run the cluster as the postgres system user then
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *argv: str) -> None:
        command = [str(self.bindir / argv[0]), *argv[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        data = self.root / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.resume()

    def resume(self) -> None:
        """Start the server (again) on the same port and data."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        data = self.root / "data"
        self._run(
            "pg_ctl", "-D", str(data), "-l", str(self.root / "log"), "-w", "-o", options, "start"
        )

    def halt(self) -> None:
        """Stop the server at once, as a crash or a lost database host would (data kept)."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def find_bindir() -> Path | None:
    """The newest PostgreSQL server binaries Debian installed, if any."""
    found = sorted(
        (Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI (see .ci/run): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a reachable server's maintenance database, for creating test databases."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[dev]')")
    url = os.environ.get(ENV, DEFAULT_URL)
    shown = make_url(url).render_as_string(hide_password=True)
    reason = probe(url)
    if reason is None:
        yield url
        return
    bindir = find_bindir()
    if bindir is None:
        unavailable(
            f"no PostgreSQL at {shown} ({reason}), "
            "and no initdb under /usr/lib/postgresql/*/bin to start one"
        )
    cluster = ThrowawayCluster(bindir)
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(cluster.root, ignore_errors=True)
        unavailable(f"no PostgreSQL at {shown} ({reason}), and a throwaway cluster failed: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database of its own for one test (`postgresql://...`), dropped after it."""
    import psycopg

    name = f"gouache_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(postgres_server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield libpq_url(postgres_server, name)
    finally:
        with psycopg.connect(libpq_url(postgres_server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gouache.db'}"
    return request.getfixturevalue("postgres_url")
