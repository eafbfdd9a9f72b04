"""Real filesystem faults for storage tests: a tiny tmpfs (disk full) and a read-only remount.

Tests run as root, so `chmod` cannot stop a write; a mount can. Both helpers undo the mount in a
`finally`, whatever the test does.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    """Mount, or skip with the reason where this machine cannot (not root, no mount namespace);
    in CI, which runs as root, a failure to mount fails the test instead."""
    try:
        subprocess.run(["mount", *args], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        reason = getattr(exc, "stderr", "") or str(exc)
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount for a real filesystem fault: {reason}")
        pytest.skip(f"cannot mount for a real filesystem fault (needs root): {reason}")


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A filesystem of `size` bytes at `folder`: writes beyond it fail with ENOSPC."""
    folder.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """Remount the tmpfs at `folder` read-only for the block (EROFS, even for root)."""
    _mount("-o", "remount,ro", str(folder))
    try:
        yield folder
    finally:
        _mount("-o", "remount,rw", str(folder))
