"""Wake-ups between processes: PostgreSQL LISTEN/NOTIFY on a connection of its own.

The store NOTIFYs inside the transactions that queue or finish an operation, so a notification
arrives only once the change is visible. A `Listener` thread receives them and calls the handler of
each channel: workers wake when work is queued on any node, synchronous requests answer as soon
as their operation finishes on any worker. A notification can be lost (the connection drops, the
process is busy reconnecting), so everything that listens also polls slowly; after a reconnection
the listener calls `on_reconnect` so that its owner can look again at once.

On SQLite there is no server to carry notifications: one process wakes its own workers and
waiters directly, and other processes find the change on their next poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import URL

from gouache.jobs.database import redact
from gouache.jobs.faults import Backoff

log = logging.getLogger("gouache.jobs")

Handler = Callable[[str], None]


class Listener:
    """A daemon thread that LISTENs on some channels and calls each one's handler with the
    payload. `stop()` ends it within about a second."""

    def __init__(
        self,
        url: URL,
        handlers: dict[str, Handler],
        *,
        on_reconnect: Callable[[], None] = lambda: None,
    ) -> None:
        self.url = url
        self.handlers = dict(handlers)
        self.on_reconnect = on_reconnect
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gouache-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Whether the listener has subscribed (so notifications sent from now on arrive)."""
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _connect(self):  # -> psycopg.Connection
        import psycopg

        url = self.url.set(drivername="postgresql")
        conn = psycopg.connect(
            url.render_as_string(hide_password=False),
            autocommit=True,
            connect_timeout=10,
            application_name="gouache-listen",
        )
        for channel in self.handlers:
            conn.execute(f'LISTEN "{channel}"')
        return conn

    def _run(self) -> None:
        import psycopg

        backoff = Backoff(first=0.5, cap=10.0)
        first = True
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    self._listening.set()
                    backoff.reset()
                    if not first:
                        self.on_reconnect()  # anything sent while away was lost: look again
                    first = False
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._dispatch(note.channel, note.payload)
            except psycopg.Error as exc:
                self._listening.clear()
                delay = backoff.next()
                log.warning(
                    "notifications: %s; reconnecting in %.1f s", redact(str(exc).strip()), delay
                )
                self._stop.wait(delay)

    def _dispatch(self, channel: str, payload: str) -> None:
        handler = self.handlers.get(channel)
        if handler is None:
            return
        try:
            handler(payload)
        except Exception:  # a handler's bug must not end the wake-ups of the whole process
            log.exception("notification handler for %s failed", channel)
