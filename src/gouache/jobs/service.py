"""The operation lifecycle as the API sees it: submit with backpressure, read, delete, wait, sweep.

This is the one object the HTTP layer talks to; it owns the store, the image folder and the
workers, and knows nothing of HTTP itself. Its API-facing methods are coroutines that run every
store and disk call on thread pools, so the event loop never waits on the database or the disk:
health checks, polls and image links keep answering while a write waits for a lock. Reads and
writes have separate pools, so writes stuck behind a lock never delay a poll.

Every operation belongs to a tenant (the name of the API key that created it); reads and deletes
of another tenant's operation answer 404 exactly as for an id that never existed.

The same object serves one machine and a cluster. With `no_workers` it is an API-only node: it
queues operations that `gouache worker` processes run. On PostgreSQL it listens for the
notifications the store sends, so a synchronous request answers as soon as its operation finishes
on any worker, and a submit on any node wakes idle workers everywhere. The expiry sweep runs on one
node at a time, the one holding the `sweeper` lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import secrets
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from gouache.config import Deployment
from gouache.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    StorageError,
    StoreUnavailable,
    TooManyRequests,
)
from gouache.jobs.cache import FinishedCache
from gouache.jobs.database import default_url
from gouache.jobs.datadir import lock_data_dir, make_private, unlock_data_dir
from gouache.jobs.faults import storage_error
from gouache.jobs.progress import PreviewRecord, ProgressStore
from gouache.jobs.runner import (
    LISTENING_POLL_S,
    MAX_ATTEMPTS,
    PROBE_ID,
    WorkerPool,
    dead_local_workers,
)
from gouache.jobs.states import FINISHED, Status
from gouache.jobs.store import (
    DELETED_CHANNEL,
    FINISHED_CHANNEL,
    SUBMITTED_CHANNEL,
    Operation,
    OperationStore,
)
from gouache.jobs.wakeups import Listener
from gouache.metrics import Metrics
from gouache.settings import Settings
from gouache.storage import image_store_for
from gouache.tenants import NO_KEYS_TENANT
from gouache.validation import GenerationParams

log = logging.getLogger("gouache.jobs")

T = TypeVar("T")
MAX_RETRY_AFTER_S = 60  # the openai SDKs ignore a longer retry-after and use their own backoff
SWEEP_BATCH = 500
# listing the image folder costs as much as there are live operations: once an hour is plenty for
# what only a crash leaves behind
RECONCILE_INTERVAL_S = 3600.0
# An image folder with no record is left alone this long (and at least one reconcile pass): an
# edit's inputs are stored a moment before its record is written.
UNKNOWN_FOLDER_GRACE_S = 60.0
SWEEPER_LEASE = "sweeper"
WAIT_POLL_S = 0.2
"""How often a synchronous request re-reads its operation on SQLite, where a worker in another
process cannot wake it (a poll is one indexed read of a local file)."""
LISTENING_WAIT_POLL_S = 2.0
"""The same where NOTIFY wakes it (PostgreSQL): only a lost notification waits this long."""

__all__ = ["MAX_ATTEMPTS", "OperationService"]


class OperationService:
    def __init__(
        self,
        settings: Settings,
        deployments: dict[str, Deployment],
        metrics: Metrics,
        on_fatal: Callable[[str], None] = lambda _msg: None,
        *,
        workers: bool | None = None,
        worker_deployments: dict[str, Deployment] | None = None,
    ) -> None:
        """`workers` (default: not `settings.no_workers`) runs engines in this process, for
        `worker_deployments` (default: all of `deployments`)."""
        self.settings = settings
        self.deployments = deployments
        self.metrics = metrics
        self.runs_workers = (not settings.no_workers) if workers is None else workers
        data_dir = Path(settings.data_dir)
        make_private(data_dir)
        # one machine, one process: the data dir's own SQLite file, which `serve.lock` guards
        self.single_node = not settings.database
        self.store = OperationStore(
            settings.database or default_url(data_dir),
            busy_timeout_s=settings.store_busy_timeout_s,
            lease_s=settings.lease_s,
            max_attempts=settings.max_attempts,
        )
        self.store.finished_hook = self._finished
        self.node = f"{socket.gethostname()[:40]}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self.images = image_store_for(settings)
        self.progress = ProgressStore(self.store.engine)
        self.pool = WorkerPool(
            self.store,
            self.images,
            (worker_deployments if worker_deployments is not None else deployments)
            if self.runs_workers
            else {},
            metrics,
            on_finished=self._finished,
            on_fatal=on_fatal,
            on_fault=self._faulted,
            progress=self.progress,
        )
        self._reads = ThreadPoolExecutor(8, thread_name_prefix="gouache-store-read")
        self._writes = ThreadPoolExecutor(4, thread_name_prefix="gouache-store-write")
        self._waiters: dict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self._waiting_deployment: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._locked = False
        self._reconciled_at: float | None = None
        # folders without a record at the last reconcile, and when that was first seen
        self._unknown_folders: dict[str, float] = {}
        self.listener: Listener | None = None
        # polls of finished operations from memory, where every deletion reaches this process:
        # the only process of a one-machine data dir, or any node hearing PostgreSQL's NOTIFY
        self.cache: FinishedCache | None = (
            FinishedCache()
            if (self.single_node and self.runs_workers) or not self.store.is_sqlite
            else None
        )
        self.wait_poll_s = WAIT_POLL_S if self.store.is_sqlite else LISTENING_WAIT_POLL_S
        if not self.store.is_sqlite:
            self.listener = Listener(
                self.store.url,
                {
                    SUBMITTED_CHANNEL: self.pool.notify,
                    FINISHED_CHANNEL: self._finished,
                    DELETED_CHANNEL: self._deleted_elsewhere,
                },
                on_reconnect=self._recheck,
            )
            self.pool.poll_s = LISTENING_POLL_S
        metrics.watch_store(self.store.count_unfinished_by_status)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Settle what a previous run left, start listening, then start the workers.

        On one machine (the data dir's own database) the server holds `serve.lock`, so a second
        `gouache serve` on the same data dir fails fast, and operations of deployments removed
        from the config are failed. Whatever the backend, leases of workers whose process has
        died on this host are ended at once, so their operations run again without waiting for
        the lease to lapse."""
        self._loop = loop
        if self.runs_workers and self.single_node:
            lock_data_dir(Path(self.settings.data_dir), for_workers=True)
            self._locked = True
        if self.runs_workers:
            dead = dead_local_workers(self.store.running_workers())
            if dead:
                lapsed = self.store.lapse_leases(dead)
                log.warning(
                    "restart: %d operations of %d stopped workers of this host can be claimed "
                    "again",
                    lapsed,
                    len(dead),
                )
        if self.single_node:
            removed = self.store.fail_unknown_deployments(self.deployments)
            for name, count in removed.items():
                log.warning(
                    "restart: %d queued operations of deployment %r failed: it is no longer in "
                    "the config",
                    count,
                    name,
                )
        if self.listener is not None:
            self.listener.start()
            self.listener.wait_listening(10)
        if self.runs_workers:
            self.pool.start()
            for name in self.store.deployments_with_work():
                self.pool.notify(name)

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.pool.stop()
        with contextlib.suppress(StoreUnavailable):
            self.store.release_lease(SWEEPER_LEASE, self.node)
        self._reads.shutdown(wait=True, cancel_futures=True)
        self._writes.shutdown(wait=True, cancel_futures=True)
        self.store.close()
        if self._locked:
            unlock_data_dir(Path(self.settings.data_dir))
            self._locked = False

    @property
    def ready(self) -> bool:
        return self.pool.ready or not self.runs_workers

    def faults(self) -> dict[str, dict[str, Any]]:
        """Deployments that cannot make progress now, with the reason (for /readyz)."""
        return {
            name: {"reason": fault.reason, "since": int(fault.since)}
            for name, fault in self.pool.faults.all().items()
        }

    async def _read(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reads, functools.partial(function, *args, **kwargs))

    async def _write(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._writes, functools.partial(function, *args, **kwargs)
        )

    # -- operations -------------------------------------------------------------------------

    async def submit(
        self,
        deployment: Deployment,
        params: GenerationParams,
        *,
        tenant: str = NO_KEYS_TENANT,
        sync: bool = False,
        inputs: Sequence[tuple[str, bytes]] = (),
    ) -> Operation:
        """Store the operation (committed before this returns) and wake a worker.

        A synchronous caller is refused at once while the deployment cannot make progress: it
        would only wait for nothing. An async submit is still accepted then, as it is durable.
        `inputs` (an edit's images, by their stored names) are written to image storage before
        the record, so no worker can claim an operation whose inputs are not there yet."""
        if sync:
            self._check_progress(deployment.name)
        return await self._write(self._submit, deployment, params, tenant, inputs)

    def _submit(
        self,
        deployment: Deployment,
        params: GenerationParams,
        tenant: str,
        inputs: Sequence[tuple[str, bytes]] = (),
    ) -> Operation:
        depth = self.store.count_unfinished()
        if depth >= self.settings.queue_max:
            retry_after = self.retry_after(depth)
            raise TooManyRequests(
                f"The server is busy: {self.settings.queue_max} operations are already waiting "
                f"or running. Please retry after {retry_after} seconds.",
                retry_after=retry_after,
            )
        operation_id = str(uuid.uuid4())
        now = int(time.time())
        record = params.to_record()
        if record["seed"] is None:
            record["seed"] = secrets.randbelow(2**31)
        if inputs:
            self._put_inputs(operation_id, inputs)
        try:
            operation = self._insert(deployment, params, tenant, operation_id, now, record)
        except BaseException:
            if inputs:
                with contextlib.suppress(StorageError, OSError):
                    self.images.delete(operation_id)
            raise
        if self.store.is_sqlite:  # PostgreSQL: the insert's NOTIFY wakes workers on every node
            self.pool.notify(deployment.name)
        return operation

    def _put_inputs(self, operation_id: str, inputs: Sequence[tuple[str, bytes]]) -> None:
        try:
            for name, data in inputs:
                self.images.put_file(operation_id, name, data)
        except (StorageError, OSError) as exc:
            with contextlib.suppress(StorageError, OSError):
                self.images.delete(operation_id)
            if isinstance(exc, StorageError):
                raise
            raise storage_error(exc, "saved") from exc

    def _insert(
        self,
        deployment: Deployment,
        params: GenerationParams,
        tenant: str,
        operation_id: str,
        now: int,
        record: dict[str, Any],
    ) -> Operation:
        return self.store.insert(
            id=operation_id,
            deployment=deployment.name,
            created=now,
            expires=now + self.settings.operation_ttl_s,
            user=params.user,
            n=params.n,
            size=params.size,
            prompt=params.prompt,
            params=record,
            tenant=tenant,
        )

    def retry_after(self, depth: int) -> int:
        """Seconds until the queue has drained at the throughput measured lately: a client told
        to come back then finds room. Before anything has been measured, the configured value."""
        rate = self.pool.throughput.per_s()
        floor = self.settings.retry_after_s
        if not rate:
            return floor
        seconds = depth / rate
        return int(min(MAX_RETRY_AFTER_S, max(floor, math.ceil(seconds))))

    def _check_progress(self, deployment: str) -> None:
        fault = self.pool.faults.get(deployment)
        if fault is not None:
            raise ServiceUnavailable(
                f"Deployment '{deployment}' cannot make progress right now: {fault.reason} "
                f"Retry after {fault.retry_after_s} seconds, or use the async API.",
                code="deploymentUnavailable",
                headers={"retry-after": str(fault.retry_after_s)},
            )

    async def get(self, operation_id: str, *, tenant: str = NO_KEYS_TENANT) -> Operation:
        cache = self.cache
        if cache is not None:
            cached = cache.get(operation_id)
            if cached is not None and cached.tenant == tenant:
                return cached
            started = time.monotonic()
        operation = await self._read(self._lookup, operation_id, tenant)
        if cache is not None and operation is not None:
            cache.put(operation, started)
        if operation is None:
            raise NotFound(
                f"Operation '{operation_id}' was not found. It may never have existed, its record "
                "has been purged, or it belongs to another API key.",
                code="notFound",
            )
        return operation

    def _lookup(self, operation_id: str, tenant: str) -> Operation | None:
        try:
            uuid.UUID(operation_id)
        except ValueError:
            return None
        operation = self.store.get(operation_id)
        if operation is None or operation.tenant != tenant:
            return None
        return operation

    async def previews(self, operation_id: str) -> list[PreviewRecord]:
        """The previews workers have recorded for an operation so far (callers check the
        tenant first, through `get`)."""
        return await self._read(self.progress.previews, operation_id)

    async def read_image(self, operation_id: str, name: str) -> bytes:
        """One stored file of an operation (an image or a preview), read off the event loop."""
        return await self._read(self.images.read, operation_id, name)

    async def delete(self, operation_id: str, *, tenant: str = NO_KEYS_TENANT) -> None:
        """Remove the images, verify they are gone, then mark the record deleted.

        In this order a crash between the steps leaves a finished operation without images, which
        a repeated DELETE or the expiry sweep completes; never a deleted record whose images stay
        readable. If the images cannot be removed the caller gets a 503 and the record is kept."""
        operation = await self.get(operation_id, tenant=tenant)
        if operation.status == Status.DELETED:
            raise NotFound(f"Operation '{operation_id}' was already deleted.", code="notFound")
        if operation.status not in FINISHED:
            raise Conflict(
                f"Operation '{operation_id}' is {operation.status}; it can be deleted once it has "
                "finished (succeeded, failed or canceled). Poll it and delete it then.",
                code="unexpectedEntityState",
            )
        self._invalidate(operation_id)
        await self._write(self._delete_images, operation_id)
        await self._write(self.store.mark_deleted, operation_id)
        self._invalidate(operation_id)

    def _invalidate(self, operation_id: str) -> None:
        if self.cache is not None:
            self.cache.invalidate(operation_id)

    def _delete_images(self, operation_id: str) -> None:
        """Delete through the image store and check nothing is left, whichever store it is."""
        try:
            self.images.delete(operation_id)
        except StorageError:
            raise
        except OSError as exc:
            raise storage_error(exc, "deleted") from exc
        if operation_id in self.images.operation_ids():
            raise StorageError(
                "The images could not be deleted: the image folder still holds them (it may be "
                "read-only). Nothing was deleted; retry later."
            )

    async def wait(
        self, operation_id: str, timeout: float, *, tenant: str = NO_KEYS_TENANT
    ) -> Operation:
        """Wait until the operation ends, without polling the store in a loop. Gives up with a 503
        when its deployment stops making progress, withdrawing the operation if it has not
        started, so that the client's retry does not run it twice."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            self._waiters[operation_id].append(future)
            try:
                operation = await self.get(operation_id, tenant=tenant)
                if operation.status in FINISHED:
                    return operation
                self._waiting_deployment[operation_id] = operation.deployment
                fault = self.pool.faults.get(operation.deployment)
                if fault is None:
                    left = deadline - loop.time()
                    if left <= 0:
                        raise TimeoutError
                    # woken by this process's workers or, on PostgreSQL, by a NOTIFY from any
                    # node; the periodic look covers workers in other processes on SQLite and
                    # notifications lost while reconnecting
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(future, min(left, self.wait_poll_s))
                    continue
            finally:
                self._forget(operation_id, future)
            withdrawn = await self._write(self.store.cancel, operation_id)
            if not withdrawn:
                # it started or ended meanwhile; one more look decides
                operation = await self.get(operation_id, tenant=tenant)
                if operation.status in FINISHED:
                    return operation
            fate = (
                "It was withdrawn"
                if withdrawn
                else f"It goes on as operation {operation_id} and can be polled"
            )
            raise ServiceUnavailable(
                f"Deployment '{operation.deployment}' cannot make progress right now: "
                f"{fault.reason} {fate}. Retry after {fault.retry_after_s} seconds.",
                code="deploymentUnavailable",
                headers={"retry-after": str(fault.retry_after_s)},
            )

    def _forget(self, operation_id: str, future: asyncio.Future[None]) -> None:
        waiters = self._waiters.get(operation_id)
        if waiters is not None:
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._waiters.pop(operation_id, None)
                self._waiting_deployment.pop(operation_id, None)

    def _finished(self, operation_id: str) -> None:
        """Called from a worker thread: resolve waiters on the event loop."""
        if self._loop is None or operation_id not in self._waiters:
            return
        self._call_on_loop(operation_id)

    def _deleted_elsewhere(self, operation_id: str) -> None:
        """Another node (or this one) deleted an operation: drop it from the cache."""
        self._invalidate(operation_id)

    def _recheck(self) -> None:
        """After notifications may have been lost: forget cached operations, wake workers and
        every waiting request."""
        if self.cache is not None:
            self.cache.clear()
        self.pool.notify_all()
        for operation_id in list(self._waiters):
            self._finished(operation_id)

    def _faulted(self, deployment: str) -> None:
        """Called from a worker thread: wake the waiters of that deployment to give up."""
        if self._loop is None:
            return
        for operation_id, name in list(self._waiting_deployment.items()):
            if name == deployment:
                self._call_on_loop(operation_id)

    def _call_on_loop(self, operation_id: str) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        # the loop may close meanwhile (shutdown): then nobody is waiting any more
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._resolve, operation_id)

    def _resolve(self, operation_id: str) -> None:
        for future in self._waiters.get(operation_id, []):
            if not future.done():
                future.set_result(None)

    # -- expiry and reconciliation ----------------------------------------------------------

    def sweep(self, now: int | None = None, *, reconcile: bool | None = None) -> int:
        """Delete the images and results of expired operations in batches, purge very old
        tombstones, and (on the first sweep, then hourly, or when asked) remove image folders the
        store does not account for.

        Images go first, then the batch is marked deleted in one transaction: a crash in between
        leaves expired operations whose images are gone, which the next sweep marks deleted."""
        now = int(time.time()) if now is None else now
        hold = max(60.0, self.settings.sweep_interval_s * 3)
        if not self.store.hold_lease(SWEEPER_LEASE, self.node, hold):
            return 0  # another node sweeps; this one takes over if that one stops renewing
        removed = 0
        while ids := self.store.expired(now, limit=SWEEP_BATCH):
            gone = []
            for operation_id in ids:
                self._invalidate(operation_id)
                try:
                    self._delete_images(operation_id)
                    gone.append(operation_id)
                except StorageError as exc:
                    log.warning("expiry: images of %s stay for now: %s", operation_id, exc.message)
            removed += self.store.mark_deleted_many(gone)
            if len(gone) < len(ids):
                break  # storage is failing; the next sweep tries again
        self.store.purge_deleted(now - self.settings.deleted_retention_s)
        if reconcile is None:
            last = self._reconciled_at
            reconcile = last is None or time.monotonic() - last >= RECONCILE_INTERVAL_S
        if reconcile:
            self.reconcile()
            self._reconciled_at = time.monotonic()
        return removed

    def reconcile(self) -> int:
        """Remove image folders of operations that are deleted or have no record (left by a crash
        or by an older version that deleted the record first). Returns how many were removed.

        A folder with no record is only removed when an earlier pass, at least
        `UNKNOWN_FOLDER_GRACE_S` before, found it without one too: an edit's inputs are written a
        moment before its record, and a pass that lands between the two must not take them."""
        on_disk = [i for i in self.images.operation_ids() if i != PROBE_ID]
        if not on_disk:
            self._unknown_folders = {}
            return 0
        statuses = self.store.statuses(on_disk)
        now = time.monotonic()
        seen = self._unknown_folders
        unknown = {i: seen.get(i, now) for i in on_disk if i not in statuses}
        doomed = [
            operation_id
            for operation_id in on_disk
            if statuses.get(operation_id) == Status.DELETED
            or (
                operation_id in unknown
                and operation_id in seen
                and now - unknown[operation_id] >= UNKNOWN_FOLDER_GRACE_S
            )
        ]
        self._unknown_folders = {i: t for i, t in unknown.items() if i not in doomed}
        removed = 0
        for operation_id in doomed:
            try:
                self._delete_images(operation_id)
                removed += 1
            except (StorageError, ValueError) as exc:
                log.warning("reconcile: %s stays: %s", operation_id, exc)
        if removed:
            log.info("reconcile: removed the images of %d deleted or unknown operations", removed)
        return removed
