"""Workers: threads that claim operations from the store, run an engine, and keep the results.

Each deployment gets `workers` threads, each with its own engine instance, so one engine object is
never used from two threads and the event loop never runs engine code. Submissions wake the
deployment's workers at once through a condition variable (fed by NOTIFY on PostgreSQL, so a
submit on any node wakes them); a slow poll of the store covers lost notifications and, on SQLite,
work that another process queued.

Every claim is a lease. One heartbeat thread per pool renews the leases of everything its workers
hold; a worker that dies stops renewing, and once its leases lapse any worker may claim the
operations again. Images of each attempt get their own names and the result is written only by the
claim that still owns the operation, so a worker whose lease was taken over writes no result and
removes only its own images.

A worker never dies of a fault around the engine: a locked or full database, a full or read-only
image folder. It records the fault (which `/readyz` reports and which makes synchronous routes
answer 503 instead of waiting), backs off, and carries on once the fault clears. An operation hit
by a storage fault goes back to the queue, up to `MAX_ATTEMPTS` runs, then fails with a
`storageUnavailable` error that names the cause but no server path.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from gouache.config import Deployment
from gouache.engines import Engine, GeneratedImage, ImageRequest, create_engine
from gouache.errors import ConfigError, GouacheError, StorageError, StoreUnavailable
from gouache.jobs.faults import Backoff, FaultBoard, storage_error
from gouache.jobs.progress import ProgressStore, preview_sink
from gouache.jobs.store import Operation, OperationStore
from gouache.metrics import Metrics
from gouache.storage import ImageStore

log = logging.getLogger("gouache.jobs")

ENGINE_FIELDS = (
    "prompt",
    "n",
    "size",
    "seed",
    "quality",
    "style",
    "background",
    "output_format",
    "output_compression",
    "operation",
    "strength",
    "input_fidelity",
    "partial_images",
)
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}
POLL_S = 1.0
"""The safety poll while idle: on SQLite, how soon a worker notices work another process queued."""
LISTENING_POLL_S = 5.0
"""The safety poll where NOTIFY wakes workers (PostgreSQL): only lost notifications wait this long."""
MAX_ATTEMPTS = 3
# a fixed id no real operation has: workers write and remove one tiny file there to learn when a
# full or read-only image folder has recovered
PROBE_ID = str(uuid.UUID(int=0))


def worker_id(deployment: str, index: int) -> str:
    """Unique per worker thread and per claim-holder: `host/pid/deployment-index-random`, so a
    process that starts on the same host can tell which leases belonged to processes now dead."""
    host = socket.gethostname()[:20]
    return f"{host}/{os.getpid()}/{deployment[:16]}-{index}-{uuid.uuid4().hex[:6]}"


def dead_local_workers(workers: list[str]) -> list[str]:
    """The workers among these that ran in a process of this host that no longer exists."""
    host = socket.gethostname()[:20]
    dead = []
    for worker in workers:
        parts = worker.split("/")
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            dead.append(worker)
        except PermissionError:
            pass  # alive, another user's
    return dead


def engine_request(operation: Operation, images: ImageStore | None = None) -> ImageRequest:
    """The engine's request, rebuilt from the stored operation; an edit's input images and mask
    are read back from image storage, where the API put them."""
    params = operation.params
    fields = {name: params.get(name) for name in ENGINE_FIELDS if name in params}
    if images is not None and params.get("inputs"):
        fields["images"] = tuple(_input(images, operation, name) for name in params["inputs"])
        if params.get("mask"):
            fields["mask"] = _input(images, operation, params["mask"])
    return ImageRequest(**fields)


def _input(images: ImageStore, operation: Operation, name: str) -> bytes:
    try:
        return images.read(operation.id, name)
    except FileNotFoundError:
        raise GouacheError(
            "The input images of this operation are no longer in storage (removed after a "
            "storage fault). Submit the edit again.",
            code="inputsUnavailable",
        ) from None


def error_record(exc: BaseException) -> dict[str, Any]:
    """What the store keeps of a failure, enough to answer with the same error later."""
    if isinstance(exc, GouacheError):
        record: dict[str, Any] = {
            "code": exc.code,
            "message": exc.message,
            "status_code": exc.status_code,
            "type": exc.type,
        }
        if exc.param:
            record["param"] = exc.param
        if exc.inner_error:
            record["inner_error"] = exc.inner_error
        if "retry-after" in exc.headers:
            record["retry_after"] = int(exc.headers["retry-after"])
        return record
    return {
        "code": "internalFailure",
        "message": f"The engine failed: {type(exc).__name__}: {exc}",
        "status_code": 500,
        "type": "server_error",
    }


class _Stopped(Exception):
    """The pool is stopping while a worker waited out a fault."""


def check_sizes(deployment: Deployment, engine: Engine) -> None:
    """A deployment may only offer sizes its engine draws natively: refusing at start-up beats
    failing (or resizing) every request for that size later."""
    supported = engine.supported_sizes()
    if supported is None:
        return
    offered = [size for size in deployment.sizes if size != "auto"]
    missing = [size for size in offered if size not in supported]
    if missing:
        raise ConfigError(
            f"it offers sizes {', '.join(missing)} that engine {deployment.engine!r} cannot draw "
            f"(it supports {', '.join(supported)}); set sizes = {list(supported)!r} in "
            f"[deployments.{deployment.name}]"
        )


class WorkerPool:
    def __init__(
        self,
        store: OperationStore,
        images: ImageStore,
        deployments: dict[str, Deployment],
        metrics: Metrics,
        on_finished: Callable[[str], None] = lambda _id: None,
        on_fatal: Callable[[str], None] = lambda _msg: None,
        on_fault: Callable[[str], None] = lambda _deployment: None,
        progress: ProgressStore | None = None,
    ) -> None:
        self.store = store
        self.progress = progress or ProgressStore(store.engine)
        self.images = images
        self.deployments = deployments
        self.metrics = metrics
        self.on_finished = on_finished
        self.on_fatal = on_fatal
        self.faults = FaultBoard(on_fault)
        self._wake = {name: threading.Condition() for name in deployments}
        self._pending = defaultdict(int)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()
        self._loading = sum(d.workers for d in deployments.values())
        self._lock = threading.Lock()
        self.engines: dict[str, list[Engine]] = defaultdict(list)
        self.failure: str | None = None
        self.throughput = Throughput(sum(d.workers for d in deployments.values()))
        self.poll_s = POLL_S
        # the claims each worker holds now, {worker: {operation id: attempt}}, for the heartbeat
        self._held: dict[str, dict[str, int]] = defaultdict(dict)
        self._held_lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def start(self) -> None:
        if self._loading == 0:
            self._ready.set()
        heartbeat = threading.Thread(target=self._heartbeat, name="gouache-heartbeat", daemon=True)
        heartbeat.start()
        self._threads.append(heartbeat)
        for deployment in self.deployments.values():
            for index in range(deployment.workers):
                thread = threading.Thread(
                    target=self._run,
                    args=(deployment, worker_id(deployment.name, index)),
                    name=f"gouache-worker-{deployment.name}-{index}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    def notify(self, deployment: str) -> None:
        condition = self._wake.get(deployment)
        if condition is None:
            return
        with condition:
            self._pending[deployment] += 1
            condition.notify()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for name, condition in self._wake.items():
            with condition:
                self._pending[name] += 1
                condition.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def notify_all(self) -> None:
        """Wake every deployment's workers (leases lapsed, or a lost notification suspected)."""
        for name in self._wake:
            self.notify(name)

    # -- leases -----------------------------------------------------------------------------

    def _hold(self, worker: str, operations: list[Operation]) -> None:
        with self._held_lock:
            self._held[worker].update({op.id: op.attempts for op in operations})

    def _drop(self, worker: str, operation_id: str) -> None:
        with self._held_lock:
            self._held[worker].pop(operation_id, None)

    def _heartbeat(self) -> None:
        """Renew every held lease at a third of its length: two beats may fail (a database
        hiccup) before any lease lapses."""
        interval = max(0.05, self.store.lease_s / 3)
        while not self._stop.wait(interval):
            with self._held_lock:
                held = {worker: dict(claims) for worker, claims in self._held.items() if claims}
            for worker, claims in held.items():
                try:
                    kept = self.store.renew(claims.items(), worker)
                except StoreUnavailable as exc:
                    log.warning(
                        "heartbeat: could not renew %d leases: %s", len(claims), exc.message
                    )
                    continue
                for lost in set(claims) - kept:
                    log.warning(
                        "worker %s lost operation %s (its lease lapsed and another worker took it, "
                        "or it ended meanwhile); its result will not be written",
                        worker,
                        lost,
                    )

    # -- one worker -------------------------------------------------------------------------

    def _run(self, deployment: Deployment, worker: str) -> None:
        try:
            engine = create_engine(deployment.engine, deployment.options)
            engine.setup()
            check_sizes(deployment, engine)
        except Exception as exc:  # a bad model path or config must stop the server, loudly
            message = f"deployment {deployment.name!r}: engine {deployment.engine!r} failed to load: {exc}"
            log.error(message)
            self.failure = message
            self.on_fatal(message)
            return
        with self._lock:
            self.engines[deployment.name].append(engine)
            self._loading -= 1
            if self._loading == 0:
                self._ready.set()
                log.info("all engines loaded")
        try:
            self._loop(deployment, engine, worker)
        finally:
            engine.close()

    def _loop(self, deployment: Deployment, engine: Engine, worker: str) -> None:
        """Claim and run until stopped; survive every fault, backing off while it lasts."""
        backoff = Backoff()
        while not self._stop.is_set():
            try:
                if self.faults.storage_fault(deployment.name):
                    self._probe_storage(deployment.name)
                batch = self._next_batch(deployment, engine, worker)
                self.faults.clear_store(deployment.name)
                if batch:
                    self._run_batch(deployment, engine, worker, batch)
                backoff.reset()
            except _Stopped:
                return
            except StoreUnavailable as exc:
                self._back_off(deployment, backoff, "store", exc.message)
            except StorageError as exc:
                self._back_off(deployment, backoff, "storage", exc.message)
            except Exception as exc:  # a bug must not silently end this deployment's work
                log.exception("worker %s: unexpected error, carrying on", worker)
                self._back_off(deployment, backoff, "store", f"unexpected {type(exc).__name__}")

    def _back_off(self, deployment: Deployment, backoff: Backoff, kind: str, reason: str) -> None:
        delay = backoff.next()
        self.faults.set(deployment.name, kind, reason, retry_after=delay)
        log.warning("%s: %s; retrying in %.1f s", deployment.name, reason, delay)
        self._stop.wait(delay)

    def _probe_storage(self, deployment: str) -> None:
        """Write and remove one small file; clears the storage fault when both work."""
        try:
            self.images.put(PROBE_ID, 0, "png", b"probe")
            self.images.delete(PROBE_ID)
            if PROBE_ID in self.images.operation_ids():
                raise StorageError("The image folder still holds a file that was just removed.")
        except StorageError:
            raise
        except OSError as exc:
            raise storage_error(exc, "saved") from exc
        self.faults.clear_storage(deployment)

    def _wait(self, deployment: str, timeout: float) -> None:
        condition = self._wake[deployment]
        with condition:
            if self._pending[deployment] == 0:
                condition.wait(timeout)
            self._pending[deployment] = 0

    def _next_batch(self, deployment: Deployment, engine: Engine, worker: str) -> list[Operation]:
        limit = max(1, engine.max_batch_images)
        claimed = self.store.claim(deployment.name, worker, limit=limit, max_images=limit)
        if not claimed:
            self._wait(deployment.name, self.poll_s)
            return []
        self._hold(worker, claimed)
        if engine.batch_window_s > 0:
            deadline = time.monotonic() + engine.batch_window_s
            while (room := limit - sum(op.n for op in claimed)) > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._wait(deployment.name, left)
                try:
                    more = self.store.claim(deployment.name, worker, limit=room, max_images=room)
                except StoreUnavailable:
                    break  # run what we hold; the loop notices the fault on its next claim
                self._hold(worker, more)
                claimed.extend(more)
        return claimed

    def _run_batch(
        self, deployment: Deployment, engine: Engine, worker: str, claimed: list[Operation]
    ) -> None:
        groups: dict[Any, list[tuple[Operation, ImageRequest]]] = defaultdict(list)
        for operation in claimed:
            try:
                request = engine_request(operation, self.images)
                groups[engine.batch_key(request)].append((operation, request))
            except Exception as exc:
                self._fail(deployment, worker, operation, exc)
        fault: StorageError | None = None
        for group in groups.values():
            try:
                self._run_group(deployment, engine, worker, group)
            except StorageError as exc:  # finish the other groups' bookkeeping first
                fault = exc
        if fault is not None:
            raise fault

    def _run_group(
        self,
        deployment: Deployment,
        engine: Engine,
        worker: str,
        group: list[tuple[Operation, ImageRequest]],
    ) -> None:
        requests = [request for _, request in group]
        started = time.perf_counter()
        try:
            sink = preview_sink([op for op, _ in group], self.images, self.progress)
            outputs = engine.run_batch(requests, previews=sink)
            if len(outputs) != len(requests):
                raise RuntimeError(f"engine returned {len(outputs)} results for {len(requests)}")
        except Exception as exc:
            if not isinstance(exc, GouacheError):
                log.exception("engine %s failed", deployment.engine)
            for operation, _ in group:
                self._fail(deployment, worker, operation, exc)
            return
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.generation_seconds.labels(deployment.name).observe(elapsed)
            self.metrics.batches.labels(deployment.name).inc()
            self.metrics.batch_images.labels(deployment.name).observe(sum(r.n for r in requests))
        log.debug(
            "%s: batch of %d requests, %d images in %.3fs",
            deployment.name,
            len(requests),
            sum(r.n for r in requests),
            elapsed,
        )
        fault: StorageError | None = None
        for (operation, _), images in zip(group, outputs, strict=True):
            if isinstance(images, GouacheError):
                self._fail(deployment, worker, operation, images)
                continue
            try:
                self._succeed(deployment, worker, operation, images)
            except StorageError as exc:
                fault = exc
            except _Stopped:
                raise
            except Exception as exc:  # a bug after the engine: fail this one, not the worker
                log.exception("finishing %s failed", operation.id)
                error = GouacheError(
                    f"The server could not finish the operation ({type(exc).__name__}). Submit "
                    "it again; if this persists, report it to the server's operator."
                )
                self._fail(deployment, worker, operation, error)
        if fault is not None:
            raise fault
        self.throughput.record(len(group), time.perf_counter() - started)

    def _save(self, operation: Operation, images: list[GeneratedImage]) -> list[dict[str, Any]]:
        """Write every image or none: on a failure the ones written are removed again. Names
        carry the attempt, so this never touches what another attempt wrote."""
        data = []
        written: list[str] = []
        try:
            for index, image in enumerate(images):
                name = self.images.put(
                    operation.id,
                    index,
                    EXTENSIONS[image.media_type],
                    image.data,
                    attempt=max(1, operation.attempts),
                )
                written.append(name)
                item: dict[str, Any] = {"name": name}
                if image.revised_prompt is not None:
                    item["revised_prompt"] = image.revised_prompt
                data.append(item)
        except (StorageError, OSError) as exc:
            error = exc if isinstance(exc, StorageError) else storage_error(exc, "saved")
            try:
                self.images.discard(operation.id, written)
            except (StorageError, OSError):
                log.warning("could not remove the partial images of %s", operation.id)
            raise error from exc
        return data

    def _succeed(
        self,
        deployment: Deployment,
        worker: str,
        operation: Operation,
        images: list[GeneratedImage],
    ) -> None:
        try:
            data = self._save(operation, images)
        except StorageError as exc:
            # not the operation's fault: run it again once storage recovers, a bounded number
            # of times (attempts counts this run already)
            if operation.attempts < self.store.max_attempts:
                self._finish(
                    lambda: self.store.release(operation.id, worker, attempt=operation.attempts),
                    deployment,
                )
                self._drop(worker, operation.id)
            else:
                self._fail(deployment, worker, operation, exc)
            raise
        result = {"created": int(time.time()), "data": data}
        written = [item["name"] for item in data]
        if self._finish(
            lambda: self.store.succeed(operation.id, worker, result, attempt=operation.attempts),
            deployment,
        ):
            self.metrics.operations_finished.labels(deployment.name, "succeeded").inc()
            self.faults.clear_storage(deployment.name)
        else:  # taken over meanwhile: remove this attempt's images, never the new owner's
            log.warning(
                "operation %s: attempt %d lost its lease before finishing; its images are removed "
                "and its result is not written",
                operation.id,
                operation.attempts,
            )
            try:
                self.images.discard(operation.id, written)
            except (StorageError, OSError):
                log.warning("could not remove the images of %s; expiry will", operation.id)
        self._drop(worker, operation.id)
        self.on_finished(operation.id)

    def _fail(
        self, deployment: Deployment, worker: str, operation: Operation, exc: BaseException
    ) -> None:
        record = error_record(exc)
        if self._finish(
            lambda: self.store.fail(operation.id, worker, record, attempt=operation.attempts),
            deployment,
        ):
            self.metrics.operations_finished.labels(deployment.name, "failed").inc()
        self._drop(worker, operation.id)
        self.on_finished(operation.id)

    def _finish(self, write: Callable[[], bool], deployment: Deployment) -> bool:
        """Record an outcome, retrying while the database is unavailable: the work is done and
        must not be lost to a lock held a little too long. Stopping leaves the operation
        `running` under a lease that lapses, after which any worker runs it again."""
        backoff = Backoff()
        while True:
            try:
                done = write()
                self.faults.clear_store(deployment.name)
                return done
            except StoreUnavailable as exc:
                delay = backoff.next()
                self.faults.set(deployment.name, "store", exc.message, retry_after=delay)
                log.warning("%s: %s; retrying in %.1f s", deployment.name, exc.message, delay)
                if self._stop.wait(delay):
                    raise _Stopped from exc


class Throughput:
    """How many operations per second the workers finish while they are busy, for an honest
    retry-after: a moving average of the seconds each batch took per operation, times the number
    of workers. Idle time does not count, so a quiet hour does not make the server look slow."""

    SMOOTHING = 0.2

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._seconds_per_operation: float | None = None
        self._lock = threading.Lock()

    def record(self, operations: int, seconds: float) -> None:
        if operations <= 0:
            return
        sample = max(seconds, 1e-6) / operations
        with self._lock:
            last = self._seconds_per_operation
            self._seconds_per_operation = (
                sample if last is None else last + self.SMOOTHING * (sample - last)
            )

    def per_s(self) -> float | None:
        """None until a batch has been measured."""
        with self._lock:
            seconds = self._seconds_per_operation
        return None if seconds is None else self.workers / seconds
