"""The durable operation store: one SQLite file (WAL) through SQLAlchemy Core.

An operation is committed here before the API answers 202, so a crash at any moment loses nothing
that was accepted. SQLAlchemy keeps the SQL portable to a shared database when API and GPU workers
run on different nodes; the guarded UPDATEs below are what make claiming safe there too.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import DBAPIError

from gouache.errors import StoreUnavailable
from gouache.jobs.migrate import ensure_schema
from gouache.jobs.states import FINISHED, UNFINISHED, Status

metadata = MetaData()
_GET_SQL = "SELECT * FROM operations WHERE id = ?"

operations = Table(
    "operations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("deployment", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires", Integer, nullable=False),
    Column("finished_at", Float),
    Column("user", String(512)),
    Column("n", Integer, nullable=False),
    Column("size", String(16), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("result", Text),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("images", Integer, nullable=False, default=0),
    Column("worker", String(64)),
    # the API key's name (its tenant); "" when the server has no keys
    Column("tenant", String(64), nullable=False, default="", server_default=""),
    # the claim's lease: its worker's heartbeats push it forward; once past, anyone may claim
    Column("lease_until", Float),
    Column("claimed_at", Float),
    Index("ix_operations_queue", "status", "deployment", "created_at"),
    Index("ix_operations_expires", "expires"),
    # the sweeper's index: expired rows of a given status, without touching the rest of history
    Index("ix_operations_status_expires", "status", "expires"),
    Index("ix_operations_user", "user", "created"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("until", Float, nullable=False),
)
"""Cluster-wide roles one node at a time holds (the expiry sweeper), each until `until`."""


@dataclass(frozen=True)
class Operation:
    id: str
    deployment: str
    status: Status
    created: int
    created_at: float
    expires: int
    user: str | None
    n: int
    size: str
    prompt: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int
    finished_at: float | None = None
    tenant: str = ""

    @classmethod
    def from_row(cls, row: Any) -> Operation:
        """From any mapping of column names (SQLAlchemy's `row._mapping` or `sqlite3.Row`)."""
        return cls(
            id=row["id"],
            deployment=row["deployment"],
            status=Status(row["status"]),
            created=row["created"],
            created_at=row["created_at"],
            expires=row["expires"],
            user=row["user"],
            n=row["n"],
            size=row["size"],
            prompt=row["prompt"],
            params=json.loads(row["params"]),
            result=json.loads(row["result"]) if row["result"] else None,
            error=json.loads(row["error"]) if row["error"] else None,
            attempts=row["attempts"],
            finished_at=row["finished_at"],
            tenant=row["tenant"],
        )


STORE_RETRY_AFTER_S = 2


def store_error(exc: BaseException) -> StoreUnavailable:
    """A database failure in words a client may see: the cause, never a server path."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "locked" in text or "busy" in text:
        cause = "it is locked by another process or transaction"
    elif "full" in text:
        cause = "its disk is full"
    elif "readonly" in text or "read-only" in text:
        cause = "it is read-only"
    elif "unable to open" in text or "no such" in text or "disk i/o" in text:
        cause = "its file cannot be opened or read"
    else:
        cause = f"it reported {type(getattr(exc, 'orig', None) or exc).__name__}"
    return StoreUnavailable(
        f"The operation database is unavailable: {cause}. Nothing was changed; retry after "
        f"{STORE_RETRY_AFTER_S} seconds.",
        headers={"retry-after": str(STORE_RETRY_AFTER_S)},
    )


P = ParamSpec("P")
R = TypeVar("R")


def guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Turn database errors into `StoreUnavailable` where they happen, so callers (workers, the
    API) handle one error type and nothing reaches a client as a 500."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (DBAPIError, sqlite3.Error) as exc:
            raise store_error(exc) from exc

    return wrapper


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives any process crash (SIGKILL included); only an OS crash or power
    # loss can drop the last transactions. FULL would fsync every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it: its WAL and
    shared-memory files then inherit the same 0600 mode."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists() and candidate.stat().st_mode & 0o077:
            candidate.chmod(0o600)


class OperationStore:
    def __init__(self, path: Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = path
        self.busy_timeout_ms = int(busy_timeout_s * 1000)
        _private_file(path)
        self.engine: SqlEngine = create_engine(
            f"sqlite:///{path}",
            connect_args={"check_same_thread": False},
            pool_size=8,
            max_overflow=16,
        )
        event.listen(self.engine, "connect", self._on_connect)
        ensure_schema(self.engine)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, _record)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        cursor.close()

    def close(self) -> None:
        with self._readers_lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()
        self.engine.dispose()

    # -- writes -----------------------------------------------------------------------------

    @guarded
    def insert(
        self,
        *,
        id: str,
        deployment: str,
        created: int,
        expires: int,
        user: str | None,
        n: int,
        size: str,
        prompt: str,
        params: dict[str, Any],
        tenant: str = "",
    ) -> Operation:
        created_at = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                operations.insert().values(
                    id=id,
                    deployment=deployment,
                    status=Status.NOT_RUNNING.value,
                    created=created,
                    created_at=created_at,
                    expires=expires,
                    user=user,
                    n=n,
                    size=size,
                    prompt=prompt,
                    params=json.dumps(params),
                    attempts=0,
                    images=0,
                    tenant=tenant,
                )
            )
        return Operation(
            id=id,
            deployment=deployment,
            status=Status.NOT_RUNNING,
            created=created,
            created_at=created_at,
            expires=expires,
            user=user,
            n=n,
            size=size,
            prompt=prompt,
            params=params,
            result=None,
            error=None,
            attempts=0,
            tenant=tenant,
        )

    @guarded
    def claim(
        self, deployment: str, worker: str, limit: int = 1, max_images: int | None = None
    ) -> list[Operation]:
        """Move up to `limit` queued operations of a deployment to running, oldest first.

        Each UPDATE is guarded by `status = notRunning`: a row another worker took in the meantime
        simply is not updated, and is not returned.
        """
        claimed: list[Operation] = []
        images = 0
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(operations)
                .where(
                    operations.c.status == Status.NOT_RUNNING.value,
                    operations.c.deployment == deployment,
                )
                .order_by(operations.c.created_at)
                .limit(limit)
            ).all()
            for row in rows:
                if max_images is not None and claimed and images + row.n > max_images:
                    break
                done = conn.execute(
                    update(operations)
                    .where(
                        operations.c.id == row.id, operations.c.status == Status.NOT_RUNNING.value
                    )
                    .values(
                        status=Status.RUNNING.value,
                        worker=worker,
                        attempts=operations.c.attempts + 1,
                    )
                )
                if done.rowcount == 1:
                    images += row.n
                    claimed.append(Operation.from_row(row._mapping))
        return claimed

    @guarded
    def succeed(self, id: str, worker: str, result: dict[str, Any]) -> bool:
        images = len(result.get("data", []))
        return self._finish(id, worker, Status.SUCCEEDED, result=json.dumps(result), images=images)

    @guarded
    def fail(self, id: str, worker: str, error: dict[str, Any]) -> bool:
        return self._finish(id, worker, Status.FAILED, error=json.dumps(error))

    def _finish(self, id: str, worker: str, status: Status, **values: Any) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(operations)
                .where(
                    operations.c.id == id,
                    operations.c.status == Status.RUNNING.value,
                    operations.c.worker == worker,
                )
                .values(status=status.value, finished_at=time.time(), **values)
            )
        return done.rowcount == 1

    @guarded
    def requeue_running(self, max_attempts: int) -> tuple[int, int]:
        """At start-up the single server owns the data dir, so anything `running` was cut off by a
        crash: run it again, unless it already crashed the server `max_attempts` times."""
        error = json.dumps(
            {
                "code": "internalFailure",
                "message": f"The operation was interrupted {max_attempts} times and was given up.",
                "status_code": 500,
            }
        )
        with self.engine.begin() as conn:
            failed = conn.execute(
                update(operations)
                .where(
                    operations.c.status == Status.RUNNING.value,
                    operations.c.attempts >= max_attempts,
                )
                .values(status=Status.FAILED.value, error=error, finished_at=time.time())
            ).rowcount
            requeued = conn.execute(
                update(operations)
                .where(operations.c.status == Status.RUNNING.value)
                .values(status=Status.NOT_RUNNING.value, worker=None)
            ).rowcount
        return requeued, failed

    @guarded
    def release(self, id: str, worker: str) -> bool:
        """Running -> notRunning, for a worker that could not finish through no fault of the
        operation (storage full or read-only): another attempt runs it once the fault clears."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(operations)
                .where(
                    operations.c.id == id,
                    operations.c.status == Status.RUNNING.value,
                    operations.c.worker == worker,
                )
                .values(status=Status.NOT_RUNNING.value, worker=None)
            )
        return done.rowcount == 1

    @guarded
    def cancel(self, id: str) -> bool:
        """notRunning -> canceled: a synchronous request that gave up withdraws its operation."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(operations)
                .where(operations.c.id == id, operations.c.status == Status.NOT_RUNNING.value)
                .values(status=Status.CANCELED.value, finished_at=time.time())
            )
        return done.rowcount == 1

    @guarded
    def fail_unknown_deployments(self, known: Iterable[str]) -> dict[str, int]:
        """At start-up: end the unfinished operations of deployments the config no longer has.

        Left queued they would count against `queue_max` forever and no worker would ever take
        them. Returns how many were failed, per deployment."""
        known = list(known)
        unfinished = [s.value for s in UNFINISHED]
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(operations.c.deployment, func.count())
                .where(operations.c.status.in_(unfinished), operations.c.deployment.not_in(known))
                .group_by(operations.c.deployment)
            ).all()
            for deployment, _count in rows:
                error = json.dumps(
                    {
                        "code": "DeploymentNotFound",
                        "message": (
                            f"The deployment '{deployment}' was removed from this server's "
                            "configuration before the operation ran. Submit it again to one of "
                            f"the deployments there are: {', '.join(known) or 'none'}."
                        ),
                        "status_code": 404,
                        "type": "invalid_request_error",
                    }
                )
                conn.execute(
                    update(operations)
                    .where(
                        operations.c.status.in_(unfinished),
                        operations.c.deployment == deployment,
                    )
                    .values(status=Status.FAILED.value, error=error, finished_at=time.time())
                )
        return {deployment: count for deployment, count in rows}

    def mark_deleted(self, id: str) -> bool:
        """Finished -> deleted; the record (user, n, size) stays for usage reports."""
        return self.mark_deleted_many([id]) == 1

    @guarded
    def mark_deleted_many(self, ids: list[str]) -> int:
        """Finished -> deleted for a batch of operations in one transaction."""
        if not ids:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(
                update(operations)
                .where(
                    operations.c.id.in_(ids),
                    operations.c.status.in_([s.value for s in FINISHED]),
                )
                .values(status=Status.DELETED.value, result=None)
            ).rowcount

    @guarded
    def expired(self, now: int, limit: int = 500) -> list[str]:
        """Finished operations past their expiry, found through (status, expires): the cost
        follows how many have expired, not how many are stored."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(operations.c.id)
                .where(
                    operations.c.status.in_([s.value for s in FINISHED]),
                    operations.c.expires <= now,
                )
                .limit(limit)
            ).all()
        return [row.id for row in rows]

    @guarded
    def purge_deleted(self, before: int) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                operations.delete().where(
                    operations.c.status == Status.DELETED.value, operations.c.expires <= before
                )
            ).rowcount

    @guarded
    def statuses(self, ids: list[str]) -> dict[str, Status]:
        """The status of each of these operations that has a record (for reconciling storage)."""
        found: dict[str, Status] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(operations.c.id, operations.c.status).where(operations.c.id.in_(chunk))
                ).all()
            found.update({row.id: Status(row.status) for row in rows})
        return found

    # -- reads ------------------------------------------------------------------------------

    @guarded
    def get(self, id: str) -> Operation | None:
        """The hot path of every poll: a per-thread sqlite3 connection and one prepared SELECT,
        about ten times cheaper than a pooled SQLAlchemy round trip."""
        row = self._reader().execute(_GET_SQL, (id,)).fetchone()
        return Operation.from_row(row) if row else None

    def _reader(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, check_same_thread=False)
            _sqlite_pragmas(connection, None)
            connection.row_factory = sqlite3.Row
            self._local.connection = connection
            with self._readers_lock:
                self._readers.append(connection)
        return connection

    @guarded
    def count_unfinished(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).where(operations.c.status.in_([s.value for s in UNFINISHED]))
            ).scalar_one()

    @guarded
    def count_unfinished_by_status(self) -> dict[str, int]:
        """Queued and running operations, counted through the queue index: the cost follows the
        queue, not the history, so a metrics scrape stays cheap at any table size."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(operations.c.status, func.count())
                .where(operations.c.status.in_([s.value for s in UNFINISHED]))
                .group_by(operations.c.status)
            ).all()
        counts = {status.value: 0 for status in UNFINISHED}
        counts.update({status: count for status, count in rows})
        return counts

    @guarded
    def deployments_with_work(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(operations.c.deployment)
                .where(operations.c.status == Status.NOT_RUNNING.value)
                .distinct()
            ).all()
        return [row.deployment for row in rows]

    @guarded
    def usage(self, since: int = 0, until: int | None = None) -> list[dict[str, Any]]:
        """Operations and images per API key (tenant) and end user, for abuse monitoring."""
        conditions = [operations.c.created >= since]
        if until is not None:
            conditions.append(operations.c.created < until)
        query = (
            select(
                operations.c.tenant.label("key"),
                operations.c.user,
                func.count().label("operations"),
                func.sum(operations.c.n).label("images_requested"),
                func.sum(operations.c.images).label("images_made"),
                func.sum(case((operations.c.status == Status.FAILED.value, 1), else_=0)).label(
                    "failed"
                ),
                func.min(operations.c.created).label("first"),
                func.max(operations.c.created).label("last"),
            )
            .where(*conditions)
            .group_by(operations.c.tenant, operations.c.user)
            .order_by(func.count().desc())
        )
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query).all()]

    @guarded
    def all_ids(self) -> Iterable[str]:
        with self.engine.connect() as conn:
            return [row.id for row in conn.execute(select(operations.c.id)).all()]
