"""One picture fails on a real `gouache serve`: the deck is still written, the report names the
slide, and the same command against a working server makes only that picture."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from pptx import Presentation

from tests.deck_helpers import slide_pictures, write_csv
from tests.server import free_port, launch, stop, wait_ready

pytestmark = pytest.mark.e2e

FAILING = (
    "[deployments.dall-e-3]\nprofile = 'dall-e-3'\n"
    "engine = 'tests.engines_for_tests:FailingEngine'\n"
)
WORKING = "[deployments.dall-e-3]\nprofile = 'dall-e-3'\nengine = 'instant'\n"
ROWS = [
    {"title": "Boots", "prompt": "hiking boots", "bullets": "Waterproof"},
    {"title": "Lanterns", "prompt": "a forbidden lantern", "bullets": "Solar"},
    {"title": "Tents", "prompt": "a tent", "bullets": "Two-person"},
]


def _serve(tmp_path, port: int, config: str, name: str):
    path = tmp_path / f"{name}.toml"
    path.write_text(config)
    server = launch(
        tmp_path / f"data-{name}", port=port, config=path, env={"GOUACHE_API_KEYS": "deck-key"}
    )
    wait_ready(server)
    return server


def _deck(tmp_path, slides, url):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "deck",
            str(slides),
            "--out",
            str(tmp_path / "range.pptx"),
            "--endpoint",
            url,
            "--api-key",
            "deck-key",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_failed_picture_gets_a_stand_in_and_a_rerun_fills_it(tmp_path):
    slides = write_csv(tmp_path / "range.csv", ROWS)
    port = free_port()
    server = _serve(tmp_path, port, FAILING, "failing")
    try:
        first = _deck(tmp_path, slides, server.url)
    finally:
        stop(server)
    assert first.returncode == 1, first.stderr
    assert "title slide + 3 slides; pictures: 2 made, 0 kept from an earlier run, 1 failed" in (
        first.stdout
    )
    assert "slide 2 (line 3) 'Lanterns': picture not made: error 400 content_policy_violation" in (
        first.stderr
    )
    assert "run the same command again" in first.stderr
    deck = Presentation(str(tmp_path / "range.pptx"))
    slides_written = list(deck.slides)
    assert len(slides_written) == 4
    assert all(len(slide_pictures(slide)) == 1 for slide in slides_written[1:])
    notes = slides_written[2].notes_slide.notes_text_frame.text
    assert "Picture not made: error 400 content_policy_violation" in notes
    images = tmp_path / "range-images"
    made_first = {p.name: p.stat().st_mtime_ns for p in images.glob("slide-0[13]-*.png")}
    assert len(made_first) == 2 and (images / "slide-02-not-made.png").exists()

    server = _serve(tmp_path, port, WORKING, "working")  # same address, engine fixed
    try:
        again = _deck(tmp_path, slides, server.url)
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    finally:
        stop(server)
    assert again.returncode == 0, again.stderr
    assert "pictures: 1 made, 2 kept from an earlier run, 0 failed" in again.stdout
    # the working server drew exactly one picture: the missing one
    assert 'gouache_batch_images_sum{deployment="dall-e-3"} 1.0' in metrics, metrics
    assert {p.name: p.stat().st_mtime_ns for p in images.glob("slide-0[13]-*.png")} == made_first
    assert not (images / "slide-02-not-made.png").exists()
    deck = Presentation(str(tmp_path / "range.pptx"))
    notes = list(deck.slides)[2].notes_slide.notes_text_frame.text
    assert "Prompt: a forbidden lantern, flat style" in notes and "Operation id: " in notes
    assert "Deployment: dall-e-3" in notes
