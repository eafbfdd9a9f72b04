"""The durable operation store and queue: a SQLite file (WAL) or PostgreSQL, through SQLAlchemy Core.

An operation is committed here before the API answers 202, so a crash at any moment loses nothing
that was accepted. The SQL is portable: every state change is one UPDATE guarded by the state it
leaves, which is what makes claiming safe between threads, processes and machines. On PostgreSQL
the claim also locks the rows it takes with `FOR UPDATE SKIP LOCKED`, so workers on many machines
never wait on each other's candidates.

A claim is a lease (see docs/architecture.md): the claiming worker's heartbeats push
`lease_until` forward; once it passes, any worker may claim the operation again, up to
`max_attempts` claims. A claim is identified by (worker, attempts): finishing, releasing and
renewing are guarded by both, so a worker whose lease was taken over writes nothing.
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
    event,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import DBAPIError, IntegrityError

from gouache.errors import StoreUnavailable
from gouache.jobs.database import create_database_engine, parse_url, sqlite_path, sqlite_pragmas
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
    if "locked" in text or "busy" in text or "lock timeout" in text:
        cause = "it is locked by another process or transaction"
    elif "connection" in text or "could not connect" in text or "server closed" in text:
        cause = "its server cannot be reached"
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


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it: its WAL and
    shared-memory files then inherit the same 0600 mode."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists() and candidate.stat().st_mode & 0o077:
            candidate.chmod(0o600)


SUBMITTED_CHANNEL = "gouache_submitted"
"""NOTIFY channel (PostgreSQL) that wakes workers: the payload is the deployment with new work."""
FINISHED_CHANNEL = "gouache_finished"
"""NOTIFY channel (PostgreSQL) that wakes synchronous requests: the payload is the operation id."""
DELETED_CHANNEL = "gouache_deleted"
"""NOTIFY channel (PostgreSQL) for deletions: the payload is the operation id."""

DEFAULT_LEASE_S = 30.0
DEFAULT_MAX_ATTEMPTS = 3


def interrupted_error(attempts: int) -> dict[str, Any]:
    """The error of an operation whose claims lapsed too often: say what happened and what to do."""
    return {
        "code": "internalFailure",
        "message": (
            f"The operation was interrupted {attempts} times (the worker running it stopped "
            "renewing its lease: it was killed, lost its machine or lost its connection to the "
            "database) and was given up. Submit it again; if this repeats, the server's operator "
            "should check the workers' logs."
        ),
        "status_code": 500,
        "type": "server_error",
    }


class OperationStore:
    """Operations in a database named by URL (or a SQLite file path).

    SQLite keeps a per-thread raw `sqlite3` connection for `get`, the hot path of every poll;
    every other call, and every call on PostgreSQL, goes through SQLAlchemy's pool.
    """

    def __init__(
        self,
        database: Path | str | URL,
        *,
        busy_timeout_s: float = 10.0,
        lease_s: float = DEFAULT_LEASE_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        migrate: bool = True,
    ) -> None:
        if isinstance(database, Path):
            database = f"sqlite:///{database}"
        self.url = parse_url(database) if isinstance(database, str) else database
        self.path = sqlite_path(self.url)
        self.is_sqlite = self.path is not None
        self.busy_timeout_ms = int(busy_timeout_s * 1000)
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.lapsed_check_s = min(1.0, lease_s / 4)
        self._lapsed_checked: dict[str, float] = {}
        if self.path is not None:
            _private_file(self.path)
        self.engine: SqlEngine = create_database_engine(self.url)
        event.listen(
            self.engine, "connect", self._on_connect if self.is_sqlite else self._on_pg_connect
        )
        ensure_schema(self.engine, migrate=migrate)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        # called after commit with the id of an operation this process ended outside a worker's
        # own finish (a claim that gave up a lapsed operation), so local waiters hear of it
        self.finished_hook: Callable[[str], None] = lambda _id: None

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        cursor.close()

    def _on_pg_connect(self, dbapi_connection: Any, _record: Any) -> None:
        """A lock held by another session (a long transaction, a migration, an operator's
        `LOCK TABLE`) fails a statement after the busy timeout instead of blocking it forever,
        as SQLite's busy timeout does: requests get 503 with retry-after, workers back off."""
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {self.busy_timeout_ms}")
        dbapi_connection.commit()

    def close(self) -> None:
        with self._readers_lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()
        self.engine.dispose()

    def _notify(self, conn: Any, channel: str, payload: str) -> None:
        """PostgreSQL: NOTIFY listeners when this transaction commits (never before, never if it
        rolls back). SQLite has no listeners: its processes wake one another by polling."""
        if not self.is_sqlite:
            conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": channel, "payload": payload},
            )

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
            self._notify(conn, SUBMITTED_CHANNEL, deployment)
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
        """Claim up to `limit` operations of a deployment, oldest first, under a fresh lease.

        Candidates are queued operations and running ones whose lease has lapsed (their worker
        died). A lapsed one that has used up `max_attempts` claims is failed here instead. Each
        UPDATE is guarded by the status and attempt count that were read: a row another worker
        took in the meantime is simply not updated, and not returned. The operations returned
        carry this claim's attempt number, which finishing must quote.
        """
        claimed: list[Operation] = []
        images = 0
        now = time.time()
        given_up: list[str] = []
        # looking for lapsed leases costs a query; a lease lapses rarely, and noticing it a
        # fraction of a lease later changes nothing, so look at most every `lapsed_check_s`
        look_for_lapsed = now - self._lapsed_checked.get(deployment, 0.0) >= self.lapsed_check_s
        with self.engine.begin() as conn:
            lapsed = []
            if look_for_lapsed:
                self._lapsed_checked[deployment] = now
                lapsed = conn.execute(
                    select(operations)
                    .where(
                        operations.c.status == Status.RUNNING.value,
                        operations.c.deployment == deployment,
                        or_(operations.c.lease_until.is_(None), operations.c.lease_until < now),
                    )
                    .order_by(operations.c.created_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ).all()
            queued = conn.execute(
                select(operations)
                .where(
                    operations.c.status == Status.NOT_RUNNING.value,
                    operations.c.deployment == deployment,
                )
                .order_by(operations.c.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in [*lapsed, *queued]:
                if len(claimed) >= limit:
                    break
                guard = [
                    operations.c.id == row.id,
                    operations.c.status == row.status,
                    operations.c.attempts == row.attempts,
                ]
                if row.status == Status.RUNNING.value:
                    guard.append(
                        or_(operations.c.lease_until.is_(None), operations.c.lease_until < now)
                    )
                    if row.attempts >= self.max_attempts:
                        done = conn.execute(
                            update(operations)
                            .where(*guard)
                            .values(
                                status=Status.FAILED.value,
                                error=json.dumps(interrupted_error(row.attempts)),
                                finished_at=now,
                                lease_until=None,
                            )
                        )
                        if done.rowcount == 1:
                            given_up.append(row.id)
                            self._notify(conn, FINISHED_CHANNEL, row.id)
                        continue
                if max_images is not None and claimed and images + row.n > max_images:
                    break
                attempt = row.attempts + 1
                done = conn.execute(
                    update(operations)
                    .where(*guard)
                    .values(
                        status=Status.RUNNING.value,
                        worker=worker,
                        attempts=attempt,
                        lease_until=now + self.lease_s,
                        claimed_at=now,
                    )
                )
                if done.rowcount == 1:
                    images += row.n
                    mapping = dict(row._mapping)
                    mapping.update(status=Status.RUNNING.value, worker=worker, attempts=attempt)
                    claimed.append(Operation.from_row(mapping))
        for id in given_up:
            self.finished_hook(id)
        return claimed

    @guarded
    def renew(self, held: Iterable[tuple[str, int]], worker: str) -> set[str]:
        """Push the leases of claims this worker still holds `lease_s` into the future; returns
        the ids it still holds (any missing one was taken over, and must not be finished)."""
        held = list(held)
        if not held:
            return set()
        until = time.time() + self.lease_s
        kept: set[str] = set()
        with self.engine.begin() as conn:
            for id, attempt in held:
                done = conn.execute(
                    update(operations)
                    .where(*self._owned(id, worker, attempt))
                    .values(lease_until=until)
                )
                if done.rowcount == 1:
                    kept.add(id)
        return kept

    @staticmethod
    def _owned(id: str, worker: str, attempt: int | None) -> list[Any]:
        """The guard of one claim: still running, by this worker, in this attempt."""
        guard = [
            operations.c.id == id,
            operations.c.status == Status.RUNNING.value,
            operations.c.worker == worker,
        ]
        if attempt is not None:
            guard.append(operations.c.attempts == attempt)
        return guard

    @guarded
    def succeed(
        self, id: str, worker: str, result: dict[str, Any], *, attempt: int | None = None
    ) -> bool:
        images = len(result.get("data", []))
        return self._finish(
            id, worker, attempt, Status.SUCCEEDED, result=json.dumps(result), images=images
        )

    @guarded
    def fail(
        self, id: str, worker: str, error: dict[str, Any], *, attempt: int | None = None
    ) -> bool:
        return self._finish(id, worker, attempt, Status.FAILED, error=json.dumps(error))

    def _finish(
        self, id: str, worker: str, attempt: int | None, status: Status, **values: Any
    ) -> bool:
        """Write the outcome once, and only for the claim that still owns the operation."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(operations)
                .where(*self._owned(id, worker, attempt))
                .values(status=status.value, finished_at=time.time(), lease_until=None, **values)
            )
            if done.rowcount == 1:
                self._notify(conn, FINISHED_CHANNEL, id)
        return done.rowcount == 1

    @guarded
    def lapse_leases(self, workers: Iterable[str]) -> int:
        """End at once the leases held by these workers, known to be dead (their process is gone
        from this machine): their operations are claimable now rather than when the lease runs
        out. Attempts are not touched; the next claim counts one more."""
        workers = list(workers)
        if not workers:
            return 0
        with self.engine.begin() as conn:
            done = conn.execute(
                update(operations)
                .where(
                    operations.c.status == Status.RUNNING.value,
                    operations.c.worker.in_(workers),
                )
                .values(lease_until=0.0)
            )
            for deployment in self._deployments_queued(conn):
                self._notify(conn, SUBMITTED_CHANNEL, deployment)
        self._lapsed_checked.clear()  # this process's next claims look for them at once
        return done.rowcount

    @staticmethod
    def _deployments_queued(conn: Any) -> list[str]:
        rows = conn.execute(
            select(operations.c.deployment)
            .where(operations.c.status.in_([s.value for s in UNFINISHED]))
            .distinct()
        ).all()
        return [row.deployment for row in rows]

    @guarded
    def running_workers(self) -> list[str]:
        """The workers that hold a claim now (for finding those of dead local processes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(operations.c.worker)
                .where(operations.c.status == Status.RUNNING.value)
                .distinct()
            ).all()
        return [row.worker for row in rows if row.worker]

    @guarded
    def release(self, id: str, worker: str, *, attempt: int | None = None) -> bool:
        """Running -> notRunning, for a worker that could not finish through no fault of the
        operation (storage full or read-only): another attempt runs it once the fault clears."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(operations)
                .where(*self._owned(id, worker, attempt))
                .values(status=Status.NOT_RUNNING.value, worker=None, lease_until=None)
            )
        return done.rowcount == 1

    @guarded
    def release_lease(self, name: str, holder: str) -> bool:
        """Give the named role up (a node stopping cleanly), so another takes it at once."""
        with self.engine.begin() as conn:
            done = conn.execute(
                leases.delete().where(leases.c.name == name, leases.c.holder == holder)
            )
        return done.rowcount == 1

    @guarded
    def hold_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take or keep the named cluster-wide role for `seconds`; False while another holder's
        lease on it runs. One UPDATE guarded by (same holder or lapsed), else one INSERT that
        the primary key lets only one node win."""
        now = time.time()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(leases)
                .where(
                    leases.c.name == name,
                    or_(leases.c.holder == holder, leases.c.until < now),
                )
                .values(holder=holder, until=now + seconds)
            )
            if done.rowcount == 1:
                return True
            if conn.execute(select(leases.c.name).where(leases.c.name == name)).first():
                return False
        try:
            with self.engine.begin() as conn:
                conn.execute(leases.insert().values(name=name, holder=holder, until=now + seconds))
        except IntegrityError:
            return False
        return True

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
            done = conn.execute(
                update(operations)
                .where(
                    operations.c.id.in_(ids),
                    operations.c.status.in_([s.value for s in FINISHED]),
                )
                .values(status=Status.DELETED.value, result=None)
            ).rowcount
            for id in ids:  # every node drops it from its cache of finished operations
                self._notify(conn, DELETED_CHANNEL, id)
        return done

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
        """The hot path of every poll. SQLite: a per-thread sqlite3 connection and one prepared
        SELECT, about ten times cheaper than a pooled SQLAlchemy round trip. PostgreSQL: one
        SELECT on a pooled connection (the round trip to the server dominates there)."""
        if not self.is_sqlite:
            with self.engine.connect() as conn:
                found = conn.execute(select(operations).where(operations.c.id == id)).first()
            return Operation.from_row(found._mapping) if found else None
        row = self._reader().execute(_GET_SQL, (id,)).fetchone()
        return Operation.from_row(row) if row else None

    def _reader(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, check_same_thread=False)
            sqlite_pragmas(connection, None)
            connection.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
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
