"""Schema migrations on SQLite and PostgreSQL: a fresh database, a 0.1 database adopted in place,
a newer schema refused, a failed revision rolled back, the `gouache db` commands, and two
processes migrating at once."""

from __future__ import annotations

import fcntl
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, inspect, select, text
from sqlalchemy.engine import Engine

from gouache.errors import ConfigError
from gouache.jobs import migrate
from gouache.jobs.database import create_database_engine, parse_url, sqlite_path
from gouache.jobs.states import Status
from gouache.jobs.store import OperationStore
from gouache.jobs.store import metadata as store_metadata
from gouache.jobs.store import operations as store_operations
from tests import schema_v0_1
from tests.postgres import libpq_url

WAITING = "waiting for the migration lock"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


def run_db(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "gouache.cli.main", "db", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def start_db(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gouache.cli.main", "db", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# -- what a schema looks like, reflected from a database or declared by a Table -----------------


def _type(kind: Any) -> tuple[type, int | None]:
    return kind.python_type, getattr(kind, "length", None)


def reflected(engine: Engine, table: str = "operations") -> dict[str, Any]:
    with engine.connect() as conn:
        found = inspect(conn)
        return {
            "columns": {
                c["name"]: (*_type(c["type"]), c["nullable"]) for c in found.get_columns(table)
            },
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "indexes": {
                i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            },
        }


def declared(table: Table) -> dict[str, Any]:
    return {
        "columns": {c.name: (*_type(c.type), c.nullable) for c in table.columns},
        "primary_key": [c.name for c in table.primary_key.columns],
        "indexes": {
            i.name: (tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes
        },
    }


def all_rows(engine: Engine) -> list[dict[str, Any]]:
    table = schema_v0_1.operations
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]


def version_rows(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(text(f"SELECT version_num FROM {migrate.VERSION_TABLE}")).scalars()
        )


def shipped() -> list[str]:
    """Every revision this code ships, oldest first: the head moves as revisions are added, and
    these tests must hold whatever it is."""
    script = migrate._script()
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


NEXT = "9999_next"
"""The id of a revision a newer gouache might add on top of the shipped head."""


def make_0_1_database(engine: Engine) -> None:
    """What gouache 0.1 left behind: `create_all` of its table, operations in it, no version."""
    schema_v0_1.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(schema_v0_1.operations.insert(), schema_v0_1.ROWS)


# -- migrating in process ------------------------------------------------------------------------


def test_fresh_database_gets_every_revision_up_to_head(engine: Engine):
    assert migrate.current_revision(engine) is None
    head = migrate.head_revision()
    assert shipped()[0] == "0001" and shipped()[-1] == head
    state = migrate.ensure_schema(engine)
    assert (state.before, state.after, state.applied, state.adopted) == (
        None,
        head,
        shipped(),
        False,
    )
    assert migrate.current_revision(engine) == head
    assert reflected(engine) == declared(store_operations)
    assert version_rows(engine) == [head]


def test_revision_0001_is_the_0_1_schema(engine: Engine):
    """0001 stands for what gouache 0.1 created, which is what adoption stamps it as."""
    from alembic import command

    with migrate._migration_connection(engine) as conn:
        command.upgrade(migrate._config(conn), "0001")
        conn.commit()
    assert migrate.current_revision(engine) == "0001"
    assert reflected(engine) == declared(schema_v0_1.operations)


def test_head_schema_is_the_table_the_store_declares(engine: Engine):
    """When the store's tables change, a revision must make the same change."""
    migrate.ensure_schema(engine)
    for table in store_metadata.sorted_tables:
        assert reflected(engine, table.name) == declared(table), (
            f"gouache.jobs.store's table {table.name!r} differs from the schema the migrations "
            "build: add a revision under src/gouache/jobs/migrations/versions/"
        )


def test_second_start_changes_nothing(engine: Engine):
    migrate.ensure_schema(engine)
    state = migrate.ensure_schema(engine)
    assert not state.changed
    head = migrate.head_revision()
    assert (state.before, state.after) == (head, head)


def test_0_1_database_is_adopted_with_its_rows_intact(engine: Engine):
    make_0_1_database(engine)
    assert migrate.has_0_1_schema(engine)
    before = all_rows(engine)
    state = migrate.ensure_schema(engine)
    assert state.adopted
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert all_rows(engine) == before == schema_v0_1.ROWS
    assert state.applied == shipped()[1:]
    assert reflected(engine) == declared(store_operations)
    assert not migrate.ensure_schema(engine).changed


def test_0_1_sqlite_data_dir_serves_its_operations_after_upgrade(tmp_path: Path):
    path = tmp_path / "gouache.db"
    engine = create_database_engine(f"sqlite:///{path}")
    make_0_1_database(engine)
    migrate.ensure_schema(engine)
    engine.dispose()
    store = OperationStore(path)
    try:
        done = store.get(schema_v0_1.ROWS[0]["id"])
        assert done is not None and done.status is Status.SUCCEEDED
        assert [image["url"] for image in done.result["data"]][1].endswith("1.png?sig=def")
        failed = store.get(schema_v0_1.ROWS[1]["id"])
        assert failed is not None and failed.prompt == "un phare au crépuscule, 灯台 🌅"
        # the one 0.1 left running (cut off by a crash, no lease) runs again, then the queue
        claimed = store.claim("dall-e-3", "w", limit=5)
        assert [(op.id, op.attempts) for op in claimed] == [
            (schema_v0_1.ROWS[3]["id"], 2),
            (schema_v0_1.ROWS[2]["id"], 1),
        ]
    finally:
        store.close()


def test_unknown_unversioned_table_is_refused_not_adopted(engine: Engine):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE operations (id VARCHAR(36) PRIMARY KEY, tenant TEXT)"))
    with pytest.raises(ConfigError, match="not those of gouache 0.1") as caught:
        migrate.ensure_schema(engine)
    assert "extra: tenant" in caught.value.message
    assert migrate.current_revision(engine) is None


def test_node_that_must_not_migrate_says_to_run_db_upgrade(engine: Engine):
    with pytest.raises(ConfigError, match="run `gouache db upgrade --database URL` first"):
        migrate.ensure_schema(engine, migrate=False)
    assert migrate.current_revision(engine) is None


@pytest.fixture
def newer_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the shipped migrations that a test can add revisions to, in use until undone."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    yield copy


REVISION_NEXT = """
import sqlalchemy as sa
from alembic import op

revision = "{next}"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("note", sa.Text))
    {fail}


def downgrade():
    pass
"""


def test_schema_migrated_by_newer_code_is_refused(
    engine: Engine, newer_code: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
):
    as_shipped = shipped()
    write_next(newer_code)
    state = migrate.ensure_schema(engine)
    assert (state.applied, state.after) == ([*as_shipped, NEXT], NEXT)
    monkeypatch.undo()  # back to the code as shipped, which does not know NEXT
    with pytest.raises(migrate.SchemaNewerThanCode) as caught:
        migrate.ensure_schema(engine)
    message = caught.value.message
    assert f"schema revision '{NEXT}'" in message and "Upgrade gouache" in message
    done = run_db("upgrade", "--database", database_url)
    assert done.returncode == 1
    assert "a newer gouache has migrated it. Upgrade gouache" in done.stderr
    current = run_db("current", "--database", database_url)
    assert current.returncode == 1 and "Upgrade gouache" in current.stderr
    assert version_rows(engine) == [NEXT]


def write_next(newer_code: Path, template: str = REVISION_NEXT, fail: str = "") -> None:
    """Add a revision on top of the shipped head to the copy of the migrations."""
    target = newer_code / "versions" / "9999_next.py"
    target.unlink(missing_ok=True)
    source = template.replace("{next}", NEXT).replace("{head}", migrate.head_revision())
    target.write_text(source.replace("{fail}", fail))


def test_failed_revision_leaves_the_previous_one_whole(engine: Engine, newer_code: Path):
    migrate.ensure_schema(engine)
    head = migrate.head_revision()
    write_next(newer_code, fail='raise RuntimeError("disk on fire")')
    with pytest.raises(RuntimeError, match="disk on fire"):
        migrate.ensure_schema(engine)
    assert migrate.current_revision(engine) == head
    assert "note" not in reflected(engine)["columns"]
    write_next(newer_code)
    assert migrate.ensure_schema(engine).applied == [NEXT]
    assert "note" in reflected(engine)["columns"]


HANGING_NEXT = """
import os
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "{next}"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("note", sa.Text))
    marker = os.environ.get("GOUACHE_TEST_MIGRATION_MARKER")
    if marker:  # the process to be killed: say so, then stay inside the revision
        Path(marker).write_text("inside the revision")
        time.sleep(600)


def downgrade():
    pass
"""

MIGRATE_WITH = """
import sys
from pathlib import Path
from gouache.jobs import migrate
from gouache.jobs.database import create_database_engine
migrate.MIGRATIONS = Path(sys.argv[2])
migrate.ensure_schema(create_database_engine(sys.argv[1]))
"""


def test_process_killed_mid_migration_leaves_the_lock_free_and_the_revision_undone(
    engine: Engine, newer_code: Path, database_url: str, tmp_path: Path
):
    make_0_1_database(engine)
    migrate.ensure_schema(engine)
    head = migrate.head_revision()
    write_next(newer_code, HANGING_NEXT)
    marker = tmp_path / "inside"
    process = subprocess.Popen(
        [sys.executable, "-c", MIGRATE_WITH, database_url, str(newer_code)],
        env={**os.environ, "GOUACHE_TEST_MIGRATION_MARKER": str(marker)},
    )
    try:
        pause = threading.Event()
        for _ in range(2400):  # a guard against hanging forever, not a measure of speed
            if marker.exists() or process.poll() is not None:
                break
            pause.wait(0.05)
        assert marker.exists(), f"the migrating process ended early ({process.returncode})"
    finally:
        process.kill()  # SIGKILL, inside the new revision with the migration lock held
        process.wait()
    assert migrate.current_revision(engine) == head
    assert "note" not in reflected(engine)["columns"]
    state = migrate.ensure_schema(engine)  # waits for nothing: the dead process holds no lock
    assert (state.before, state.applied) == (head, [NEXT])
    assert "note" in reflected(engine)["columns"]
    assert all_rows(engine) == schema_v0_1.ROWS


def test_user_without_create_rights_is_told_what_to_grant(postgres_url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    role = f"gouache_reader_{os.getpid()}"
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    engine = create_database_engine(
        make_url(postgres_url).set(username=role).render_as_string(False)
    )
    try:
        with pytest.raises(ConfigError, match="could not migrate the database") as caught:
            migrate.ensure_schema(engine)
        assert "permission denied" in caught.value.message
        assert "GRANT CREATE ON SCHEMA public" in caught.value.message
        assert migrate.current_revision(engine) is None
    finally:
        engine.dispose()
        with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{role}"')


# -- the command line ----------------------------------------------------------------------------


def test_db_upgrade_is_idempotent_and_db_current_prints_the_revision(database_url: str):
    empty = run_db("current", "--database", database_url)
    if database_url.startswith("sqlite"):  # `current` does not create the file it looks for
        assert (empty.returncode, empty.stdout) == (1, "")
        assert "no database at" in empty.stderr
    else:
        assert (empty.returncode, empty.stdout.split()[0]) == (0, "none"), empty.stderr
    head = migrate.head_revision()
    first = run_db("upgrade", "--database", database_url)
    assert first.returncode == 0, first.stderr
    assert f"applied {', '.join(shipped())}; now at {head} (head)" in first.stdout
    second = run_db("upgrade", "--database", database_url)
    assert second.returncode == 0, second.stderr
    assert f"already at {head} (head)" in second.stdout
    current = run_db("current", "--database", database_url)
    assert (current.returncode, current.stdout) == (0, f"{head} (head)\n")


def test_db_upgrade_adopts_a_0_1_database(engine: Engine, database_url: str):
    make_0_1_database(engine)
    assert "a gouache 0.1 schema" in run_db("current", "--database", database_url).stdout
    done = run_db("upgrade", "--database", database_url)
    assert done.returncode == 0, done.stderr
    assert "adopted the gouache 0.1 schema as revision 0001" in done.stdout
    assert all_rows(engine) == schema_v0_1.ROWS


def test_db_commands_default_to_the_data_dir_database(tmp_path: Path):
    missing = run_db("current", cwd=tmp_path)
    assert missing.returncode == 1
    assert "no database at .gouache/gouache.db" in missing.stderr
    assert not (tmp_path / ".gouache").exists()
    assert run_db("upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".gouache" / "gouache.db").is_file()
    data = tmp_path / "elsewhere"
    done = run_db("upgrade", env={"GOUACHE_DATA_DIR": str(data)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        run_db("current", "--data-dir", str(data)).stdout == f"{migrate.head_revision()} (head)\n"
    )
    chosen = tmp_path / "chosen.db"
    done = run_db("upgrade", env={"GOUACHE_DATABASE": f"sqlite:///{chosen}"}, cwd=tmp_path)
    assert done.returncode == 0 and chosen.is_file(), done.stderr


def test_db_command_with_a_bad_url_is_a_clear_error(tmp_path: Path):
    done = run_db("upgrade", "--database", "mysql://root:hunter2@db/gouache")
    assert done.returncode == 1
    assert "uses 'mysql', which gouache does not support" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    done = run_db("upgrade", "--database", f"sqlite:///{tmp_path / 'no' / 'gouache.db'}")
    assert done.returncode == 1 and "does not exist" in done.stderr


# -- two nodes starting at once ------------------------------------------------------------------


@contextmanager
def migration_lock_held(database_url: str) -> Iterator[None]:
    """Hold the lock `gouache db upgrade` takes, as a node in the middle of migrating would."""
    path = sqlite_path(parse_url(database_url))
    if path is not None:
        with open(migrate.sqlite_lock_path(path), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    import psycopg

    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (migrate.ADVISORY_LOCK_KEY,))
        yield


def _follow(process: subprocess.Popen[str], lines: queue.Queue[tuple[int, str]]) -> list[str]:
    seen: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            lines.put((process.pid, line))

    threading.Thread(target=read, daemon=True).start()
    return seen


def test_two_processes_migrating_at_once_both_succeed_and_migrate_once(
    engine: Engine, database_url: str
):
    lines: queue.Queue[tuple[int, str]] = queue.Queue()
    with migration_lock_held(database_url):
        processes = [start_db("upgrade", "--database", database_url) for _ in range(2)]
        stderr = [_follow(process, lines) for process in processes]
        waiting: set[int] = set()
        try:
            while len(waiting) < 2:
                pid, line = lines.get(timeout=120)
                if WAITING in line:
                    waiting.add(pid)
        except queue.Empty:
            for process in processes:
                process.kill()
            pytest.fail(f"both processes should wait for the lock; stderr: {stderr}")
    # lock released: both race for it now
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], stderr
    head = migrate.head_revision()
    assert sorted(f"applied {', '.join(shipped())};" in out for out in outputs) == [False, True]
    assert sum(f"already at {head} (head)" in out for out in outputs) == 1, outputs
    assert version_rows(engine) == [head]
    assert reflected(engine) == declared(store_operations)


# -- packaging ---------------------------------------------------------------------------------


def test_migrations_ship_in_the_package():
    """An installed gouache must find its revisions: packages for the .py files, package-data for
    the rest (a wheel built from pyproject.toml holds exactly these)."""
    import fnmatch
    import tomllib

    import setuptools

    root = Path(__file__).resolve().parents[1]
    packages = setuptools.find_packages(root / "src")
    assert {"gouache.jobs.migrations", "gouache.jobs.migrations.versions"} <= set(packages)
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    for path in migrate.MIGRATIONS.rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            assert any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns), path
    assert (migrate.MIGRATIONS / "versions" / "0001_operations.py").is_file()
