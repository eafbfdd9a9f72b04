"""The progress callback type, kept apart so that the in-process path need not import httpx."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]
"""`progress(status, elapsed_s)`: called as an operation's status changes."""
