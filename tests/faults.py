"""Real faults for tests: a database write lock held by another connection, and small tmpfs
mounts that fill up or turn read-only (tests run as root, where chmod stops nothing).

Every mount is undone in a `finally`, whatever the test does. Where this machine cannot mount (not
root, no mount namespace) the test skips with the reason; in CI, which runs as root, it fails.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def write_lock(database: Path) -> Iterator[sqlite3.Connection]:
    """Hold SQLite's write lock from a second connection, as another process's long transaction
    would, until the block ends."""
    holder = sqlite3.connect(database, isolation_level=None, timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextlib.contextmanager
def held_write_lock(database_url: str) -> Iterator[object]:
    """Block every write to the operations table from another connection until the block ends:
    SQLite's write lock (`BEGIN IMMEDIATE`), or on PostgreSQL `LOCK TABLE ... IN EXCLUSIVE MODE`
    (what an operator's maintenance or a long migration holds; plain reads still go through)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with write_lock(Path(url.database)) as holder:
            yield holder
        return
    import psycopg

    with psycopg.connect(url.set(drivername="postgresql").render_as_string(False)) as holder:
        holder.execute("LOCK TABLE operations IN EXCLUSIVE MODE")
        try:
            yield holder
        finally:
            holder.rollback()


def _mount(*args: str) -> None:
    try:
        subprocess.run(["mount", *args], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        reason = (getattr(exc, "stderr", "") or str(exc)).strip()
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount for a real filesystem fault: {reason}")
        pytest.skip(f"cannot mount for a real filesystem fault (needs root): {reason}")


class Mount:
    """A tmpfs mounted at `path`; `read_only()` and `writable()` remount it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_only(self) -> None:
        _mount("-o", "remount,ro", str(self.path))

    def writable(self) -> None:
        _mount("-o", "remount,rw", str(self.path))


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "3m") -> Iterator[Mount]:
    """A filesystem of `size` bytes at `path`: writes beyond it fail with ENOSPC."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    try:
        yield Mount(path)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(path)], capture_output=True)
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str = "1m") -> Iterator[Path]:
    with tmpfs(folder, size) as mount:
        yield mount.path


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """Remount the tmpfs at `folder` read-only for the block (EROFS, even for root)."""
    mount = Mount(folder)
    mount.read_only()
    try:
        yield folder
    finally:
        mount.writable()


def fill(folder: Path) -> Path:
    """Fill the filesystem holding `folder` to the last byte; returns the filler to delete."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for block in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while handle.write(b"\0" * block):
                    pass
    return filler
