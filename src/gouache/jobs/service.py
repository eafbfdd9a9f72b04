"""The operation lifecycle as the API sees it: submit with backpressure, read, delete, wait, sweep.

This is the one object the HTTP layer talks to; it owns the store, the image folder and the
workers, and knows nothing of HTTP itself.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from gouache.config import Deployment
from gouache.errors import Conflict, NotFound, TooManyRequests
from gouache.jobs.runner import WorkerPool
from gouache.jobs.states import FINISHED, Status
from gouache.jobs.store import Operation, OperationStore
from gouache.metrics import Metrics
from gouache.settings import Settings
from gouache.storage import image_store_for
from gouache.validation import GenerationParams

log = logging.getLogger("gouache.jobs")

MAX_ATTEMPTS = 3


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
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store = OperationStore(data_dir / "gouache.db")
        self.images = image_store_for(settings)
        self.pool = WorkerPool(
            self.store,
            self.images,
            deployments,
            metrics,
            on_finished=self._finished,
            on_fatal=on_fatal,
        )
        self._waiters: dict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self._loop: asyncio.AbstractEventLoop | None = None
        metrics.watch_store(self.store.count_by_status)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        requeued, failed = self.store.requeue_running(MAX_ATTEMPTS)
        if requeued or failed:
            log.warning(
                "restart: %d interrupted operations queued again, %d given up", requeued, failed
            )
        self.pool.start()
        for name in self.store.deployments_with_work():
            self.pool.notify(name)

    def stop(self) -> None:
        self.pool.stop()
        self.store.close()

    @property
    def ready(self) -> bool:
        return self.pool.ready

    # -- operations -------------------------------------------------------------------------

    def submit(self, deployment: Deployment, params: GenerationParams) -> Operation:
        """Store the operation (committed before this returns) and wake a worker."""
        if self.store.count_unfinished() >= self.settings.queue_max:
            raise TooManyRequests(
                f"The server is busy: {self.settings.queue_max} operations are already waiting "
                f"or running. Please retry after {self.settings.retry_after_s} seconds.",
                retry_after=self.settings.retry_after_s,
            )
        operation_id = str(uuid.uuid4())
        now = int(time.time())
        record = params.to_record()
        if record["seed"] is None:
            record["seed"] = secrets.randbelow(2**31)
        operation = self.store.insert(
            id=operation_id,
            deployment=deployment.name,
            created=now,
            expires=now + self.settings.operation_ttl_s,
            user=params.user,
            n=params.n,
            size=params.size,
            prompt=params.prompt,
            params=record,
        )
        self.pool.notify(deployment.name)
        return operation

    def get(self, operation_id: str) -> Operation:
        operation = self._lookup(operation_id)
        if operation is None:
            raise NotFound(
                f"Operation '{operation_id}' was not found. It may never have existed or its record "
                "has been purged.",
                code="notFound",
            )
        return operation

    def _lookup(self, operation_id: str) -> Operation | None:
        try:
            uuid.UUID(operation_id)
        except ValueError:
            return None
        return self.store.get(operation_id)

    def delete(self, operation_id: str) -> None:
        operation = self.get(operation_id)
        if operation.status == Status.DELETED:
            raise NotFound(f"Operation '{operation_id}' was already deleted.", code="notFound")
        if operation.status not in FINISHED:
            raise Conflict(
                f"Operation '{operation_id}' is {operation.status}; it can be deleted once it has "
                "finished (succeeded, failed or canceled). Poll it and delete it then.",
                code="unexpectedEntityState",
            )
        if self.store.mark_deleted(operation_id):
            self.images.delete(operation_id)

    async def wait(self, operation_id: str, timeout: float) -> Operation:
        """Wait until the operation ends, without polling the store in a loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiters[operation_id].append(future)
        try:
            operation = self.get(operation_id)
            if operation.status in FINISHED:
                return operation
            await asyncio.wait_for(future, timeout)
            return self.get(operation_id)
        finally:
            waiters = self._waiters.get(operation_id)
            if waiters is not None:
                if future in waiters:
                    waiters.remove(future)
                if not waiters:
                    self._waiters.pop(operation_id, None)

    def _finished(self, operation_id: str) -> None:
        """Called from a worker thread: resolve waiters on the event loop."""
        if self._loop is None or operation_id not in self._waiters:
            return
        self._loop.call_soon_threadsafe(self._resolve, operation_id)

    def _resolve(self, operation_id: str) -> None:
        for future in self._waiters.get(operation_id, []):
            if not future.done():
                future.set_result(None)

    # -- expiry -----------------------------------------------------------------------------

    def sweep(self, now: int | None = None) -> int:
        """Delete the images and results of expired operations; purge very old tombstones."""
        now = int(time.time()) if now is None else now
        removed = 0
        while ids := self.store.expired(now):
            for operation_id in ids:
                if self.store.mark_deleted(operation_id):
                    self.images.delete(operation_id)
                    removed += 1
        self.store.purge_deleted(now - self.settings.deleted_retention_s)
        return removed
