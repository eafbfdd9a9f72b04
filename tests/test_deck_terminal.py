"""The progress bar: drawn on a terminal's stderr, cleared at the end; nothing on a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.deck_helpers import write_csv


def test_progress_bar_on_a_terminal(tmp_path):
    slides = write_csv(tmp_path / "s.csv", [{"title": f"Slide {i}"} for i in range(1, 4)])
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gouache.cli.main",
                "deck",
                str(slides),
                "--out",
                str(tmp_path / "s.pptx"),
                "--engine",
                "instant",
            ],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
            text=True,
        )
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    text = drawn.decode()
    assert "gouache deck [------------------------] 0/3  making 3 pictures" in text
    assert "gouache deck [################--------] 2/3  slide 2: Slide 2" in text
    assert "3/3  writing the deck" in text
    assert text.endswith("\r\x1b[K")  # cleared: the terminal is left clean
    assert "title slide + 3 slides" in done.stdout
