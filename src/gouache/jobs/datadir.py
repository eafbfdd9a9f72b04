"""The data dir: private to its owner, and served by one `gouache serve` at a time.

A one-machine server (workers on, no `database` URL) holds `serve.lock` (an advisory `flock`,
released by the kernel when the process dies, SIGKILL included), so that starting the same server
twice fails at once, and so that it alone fails operations of deployments removed from its config.
Claims are leases, so correctness no longer depends on it: `gouache worker` processes may share
the data dir's database without taking it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import IO

from gouache.errors import ConfigError

log = logging.getLogger("gouache.jobs")

# Locks this process holds, by data dir. `gouache serve` takes the lock before it builds the app
# (so a second server fails fast, before loading engines); the app's workers then adopt it.
_held: dict[Path, tuple[IO[str], bool]] = {}
_held_lock = threading.Lock()


def make_private(data_dir: Path) -> None:
    """Create the data dir 0700, and tighten an existing one that others could read."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = data_dir.stat().st_mode & 0o777
    if mode & 0o077:
        data_dir.chmod(0o700)
        log.warning("data dir %s was readable by others (mode %o); now 0700", data_dir, mode)


def lock_data_dir(data_dir: Path, *, for_workers: bool = False) -> IO[str]:
    """Hold `serve.lock` in the data dir, or raise ConfigError if another process (or another app
    in this one) runs workers there. `for_workers` adopts a lock this process took earlier."""
    make_private(data_dir)
    key = data_dir.resolve()
    with _held_lock:
        if key in _held:
            handle, adopted = _held[key]
            if for_workers and not adopted and not handle.closed:
                _held[key] = (handle, True)
                return handle
            if not handle.closed:
                raise ConfigError(
                    f"another gouache server is already using the data dir {data_dir}"
                )
        handle = open(data_dir / "serve.lock", "a+")  # noqa: SIM115 - held until released
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise ConfigError(
                f"another gouache serve is already using the data dir {data_dir}"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        _held[key] = (handle, for_workers)
        return handle


def unlock_data_dir(data_dir: Path) -> None:
    with _held_lock:
        entry = _held.pop(data_dir.resolve(), None)
    if entry is not None:
        entry[0].close()
