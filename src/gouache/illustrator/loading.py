"""Loading shared data once per process, safely from any number of drawing threads.

The illustrator promises that `draw()` may be called from several threads at once. What threads
share is loaded once and then only read: the word index and its encoder, the colour table, the
world outline, probe vectors. `filled_once` is the cache for those loaders: a hit takes no lock,
a miss is filled under the loader's own lock, so two threads asking at the same time get the very
same object and the data is read from disk only once.

FreeType, behind every Pillow font object, allows one thread at a time on a face, and faces of
one library (Pillow has one) are created and freed one at a time too: `FREETYPE` is held around
every use of a font object. Type and glyph rendering are a small share of a drawing (glyph masks
are cached), so the lock costs little.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

FREETYPE = threading.RLock()


def filled_once(loader: Callable[..., T]) -> Callable[..., T]:
    """Memoise `loader` (hashable arguments, few distinct ones) so that each value is computed
    exactly once even under concurrent calls."""
    values: dict[tuple[Hashable, ...], T] = {}
    lock = threading.Lock()

    @functools.wraps(loader)
    def cached(*args: Hashable) -> T:
        try:
            return values[args]
        except KeyError:
            pass
        with lock:
            if args not in values:
                values[args] = loader(*args)
            return values[args]

    return cached


class LockedLRU:
    """A small least-recently-added cache whose reads and writes are each one locked step, for
    caches that every drawing thread fills (glyph masks, silhouettes). Values must be treated as
    read-only by whoever gets them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: dict[Hashable, object] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            return self._items.get(key)

    def remember(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.limit:
                del self._items[next(iter(self._items))]
