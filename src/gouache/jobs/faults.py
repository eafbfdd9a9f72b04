"""What workers know about faults around the engine: a locked or full database, a full or
read-only image folder. The pool records them per deployment so `/readyz` can say why a deployment
cannot make progress and synchronous routes can answer 503 instead of waiting for nothing."""

from __future__ import annotations

import errno
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gouache.errors import StorageError

_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the image folder is on a read-only filesystem",
    errno.EACCES: "the server may not write to the image folder",
    errno.EPERM: "the server may not write to the image folder",
    errno.ENOENT: "the image folder is missing",
    errno.EIO: "the disk reported an I/O error",
}


def storage_error(exc: OSError, action: str) -> StorageError:
    """An OS error from the image folder in words a client may see: never the server's path."""
    cause = _CAUSES.get(exc.errno or 0) or f"the filesystem reported {exc.strerror or 'an error'}"
    return StorageError(f"The images could not be {action}: {cause}. Retry later.")


class Backoff:
    """Exponential waits between retries: 0.25 s doubling to 30 s."""

    def __init__(self, first: float = 0.25, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first


@dataclass(frozen=True)
class Fault:
    kind: str  # "store" or "storage"
    reason: str
    since: float
    retry_after: float

    @property
    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.retry_after))


class FaultBoard:
    """The current fault of each deployment, if any, shared by its workers."""

    def __init__(self, on_fault: Callable[[str], None]) -> None:
        self._faults: dict[str, dict[str, Fault]] = {}
        self._lock = threading.Lock()
        self._on_fault = on_fault

    def set(self, deployment: str, kind: str, reason: str, *, retry_after: float) -> None:
        with self._lock:
            kinds = self._faults.setdefault(deployment, {})
            since = kinds[kind].since if kind in kinds else time.time()
            kinds[kind] = Fault(kind, reason, since, retry_after)
        self._on_fault(deployment)

    def _clear(self, deployment: str, kind: str) -> None:
        with self._lock:
            kinds = self._faults.get(deployment)
            if kinds and kinds.pop(kind, None) is not None and not kinds:
                del self._faults[deployment]

    def clear_store(self, deployment: str) -> None:
        self._clear(deployment, "store")

    def clear_storage(self, deployment: str) -> None:
        self._clear(deployment, "storage")

    def storage_fault(self, deployment: str) -> bool:
        with self._lock:
            return "storage" in self._faults.get(deployment, {})

    def get(self, deployment: str) -> Fault | None:
        """The fault that stops this deployment, the database's first."""
        with self._lock:
            kinds = self._faults.get(deployment, {})
            return kinds.get("store") or kinds.get("storage")

    def all(self) -> dict[str, Fault]:
        with self._lock:
            names = list(self._faults)
        return {name: fault for name in names if (fault := self.get(name)) is not None}
