"""Where Debian's Chromium is and how to start it on a machine with no network beyond loopback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def find_chromium() -> str | None:
    for candidate in (
        os.environ.get("GOUACHE_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


# Without the background-networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
