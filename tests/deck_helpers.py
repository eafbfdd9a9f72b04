"""Shared by the deck and brand-kit tests: slides files, opening decks, pictures in a deck."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    import csv

    fields = ["title", "description", "bullets", "prompt", "layout"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({name: row.get(name, "") for name in fields})
    return path


def slide_pictures(slide) -> list:
    return [shape for shape in slide.shapes if shape.shape_type == 13 or hasattr(shape, "image")]


def shown_aspect(picture) -> float:
    """The aspect of the part of the image that shows (after the picture's crop)."""
    with Image.open(io.BytesIO(picture.image.blob)) as image:
        width, height = image.size
    shown_w = width * (1 - picture.crop_left - picture.crop_right)
    shown_h = height * (1 - picture.crop_top - picture.crop_bottom)
    return shown_w / shown_h


def require_tool(name: str) -> str:
    """The tool's path; skips without it, except in CI, whose install step must provide it."""
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is missing in CI: see .ci/run")
    pytest.skip(f"{name} is not installed")


def ocr(path: Path) -> str:
    tesseract = require_tool("tesseract")
    done = subprocess.run(
        [tesseract, str(path), "-", "--psm", "6"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
