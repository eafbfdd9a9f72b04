"""A one-line progress bar on stderr, drawn only on a terminal (pipes and CI stay quiet)."""

from __future__ import annotations

import sys
from typing import IO


class ProgressBar:
    """`gouache deck [#######-------] 3/7  slide 3: Trail shoes`, redrawn in place."""

    WIDTH = 24

    def __init__(self, label: str, total: int, stream: IO[str] | None = None, enabled=None):
        self.label = label
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.drawn = False

    def __call__(self, done: int, what: str) -> None:
        if not self.enabled:
            return
        filled = round(self.WIDTH * done / self.total)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"{self.label} [{bar}] {done}/{self.total}  {what}"
        self.stream.write("\r\x1b[K" + line[:120])
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False
