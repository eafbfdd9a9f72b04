"""Finished operations kept in memory, so that polls of them skip the database and its thread pool.

A finished operation (succeeded, failed, canceled) changes only by being deleted, by a DELETE or
at expiry, so it can be served from memory until then if every deletion reaches the cache:

- a deletion made by this process invalidates the entry itself, before removing the images and
  again once the record is marked deleted;
- a deletion made by another node arrives as a notification (PostgreSQL NOTIFY); after the
  listening connection reconnects the whole cache is cleared, since notifications may have been
  lost meanwhile;
- an entry is never served once its operation's `expires` has passed (the sweeper's business).

A read that began before an invalidation of the same id is not cached: it may have seen the row
as it was before the deletion. The owner enables the cache only where every deletion reaches it
(PostgreSQL with a listener, or the single process of a one-machine data dir).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from gouache.jobs.states import FINISHED
from gouache.jobs.store import Operation

DEFAULT_ENTRIES = 10_000


class FinishedCache:
    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = entries
        self._items: OrderedDict[str, Operation] = OrderedDict()
        self._invalidated: OrderedDict[str, float] = OrderedDict()
        self._cleared_at = float("-inf")
        self._lock = threading.Lock()

    def get(self, operation_id: str) -> Operation | None:
        """The cached operation, if it is cached and not yet expired. Called on the event loop:
        a dict lookup, no I/O."""
        operation = self._items.get(operation_id)
        if operation is None or operation.expires <= time.time():
            return None
        return operation

    def put(self, operation: Operation, read_started: float) -> None:
        """Cache a finished operation read at `read_started` (time.monotonic()), unless its id was
        invalidated since that read began."""
        if operation.status not in FINISHED:
            return
        with self._lock:
            if read_started <= self._cleared_at:
                return
            invalidated = self._invalidated.get(operation.id)
            if invalidated is not None and invalidated >= read_started:
                return
            self._items[operation.id] = operation
            self._items.move_to_end(operation.id)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)

    def invalidate(self, operation_id: str) -> None:
        with self._lock:
            self._items.pop(operation_id, None)
            self._invalidated[operation_id] = time.monotonic()
            self._invalidated.move_to_end(operation_id)
            while len(self._invalidated) > self.entries:
                self._invalidated.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (notifications may have been lost); reads in flight are not cached."""
        with self._lock:
            self._cleared_at = time.monotonic()
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
