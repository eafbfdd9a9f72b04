"""The operation lifecycle as the API sees it: submit with backpressure, read, delete, wait, sweep.

This is the one object the HTTP layer talks to; it owns the store, the image folder and the
workers, and knows nothing of HTTP itself. Its API-facing methods are coroutines that run every
store and disk call on thread pools, so the event loop never waits on the database or the disk:
health checks, polls and image links keep answering while a write waits for a lock. Reads and
writes have separate pools, so writes stuck behind a lock never delay a poll.

Every operation belongs to a tenant (the name of the API key that created it); reads and deletes
of another tenant's operation answer 404 exactly as for an id that never existed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import secrets
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
    TooManyRequests,
)
from gouache.jobs.datadir import lock_data_dir, make_private, unlock_data_dir
from gouache.jobs.faults import storage_error
from gouache.jobs.progress import PreviewRecord, ProgressStore
from gouache.jobs.runner import MAX_ATTEMPTS, PROBE_ID, WorkerPool
from gouache.jobs.states import FINISHED, Status
from gouache.jobs.store import Operation, OperationStore
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

__all__ = ["MAX_ATTEMPTS", "OperationService"]


class OperationService:
    def __init__(
        self,
        settings: Settings,
        deployments: dict[str, Deployment],
        metrics: Metrics,
        on_fatal: Callable[[str], None] = lambda _msg: None,
    ) -> None:
        self.settings = settings
        self.deployments = deployments
        self.metrics = metrics
        data_dir = Path(settings.data_dir)
        make_private(data_dir)
        self.store = OperationStore(
            data_dir / "gouache.db", busy_timeout_s=settings.store_busy_timeout_s
        )
        self.images = image_store_for(settings)
        self.progress = ProgressStore(self.store.engine)
        self.pool = WorkerPool(
            self.store,
            self.images,
            deployments,
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
        metrics.watch_store(self.store.count_unfinished_by_status)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Take the data dir's lock, settle what a previous run left, then start the workers."""
        self._loop = loop
        lock_data_dir(Path(self.settings.data_dir), for_workers=True)
        self._locked = True
        requeued, failed = self.store.requeue_running(MAX_ATTEMPTS)
        if requeued or failed:
            log.warning(
                "restart: %d interrupted operations queued again, %d given up", requeued, failed
            )
        removed = self.store.fail_unknown_deployments(self.deployments)
        for name, count in removed.items():
            log.warning(
                "restart: %d queued operations of deployment %r failed: it is no longer in the "
                "config",
                count,
                name,
            )
        self.pool.start()
        for name in self.store.deployments_with_work():
            self.pool.notify(name)

    def stop(self) -> None:
        self.pool.stop()
        self._reads.shutdown(wait=True, cancel_futures=True)
        self._writes.shutdown(wait=True, cancel_futures=True)
        self.store.close()
        if self._locked:
            unlock_data_dir(Path(self.settings.data_dir))
            self._locked = False

    @property
    def ready(self) -> bool:
        return self.pool.ready

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
        operation = await self._read(self._lookup, operation_id, tenant)
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
        await self._write(self._delete_images, operation_id)
        await self._write(self.store.mark_deleted, operation_id)

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
                    await asyncio.wait_for(future, left)
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
        removed = 0
        while ids := self.store.expired(now, limit=SWEEP_BATCH):
            gone = []
            for operation_id in ids:
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
        or by an older version that deleted the record first). Returns how many were removed."""
        on_disk = [i for i in self.images.operation_ids() if i != PROBE_ID]
        if not on_disk:
            return 0
        statuses = self.store.statuses(on_disk)
        removed = 0
        for operation_id in on_disk:
            status = statuses.get(operation_id)
            if status is None or status == Status.DELETED:
                try:
                    self._delete_images(operation_id)
                    removed += 1
                except (StorageError, ValueError) as exc:
                    log.warning("reconcile: %s stays: %s", operation_id, exc)
        if removed:
            log.info("reconcile: removed the images of %d deleted or unknown operations", removed)
        return removed
