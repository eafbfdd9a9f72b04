"""Render a deck with LibreOffice, as a user opening it would see it. `.ci/run` installs
LibreOffice Impress and poppler-utils, so under CI this must run; elsewhere it skips without
them."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from PIL import Image

from gouache import make_deck

soffice = shutil.which("soffice")
pdftoppm = shutil.which("pdftoppm")
MISSING = "needs LibreOffice (libreoffice-impress) and poppler-utils"
if os.environ.get("CI") and not (soffice and pdftoppm):
    raise RuntimeError(f"{MISSING}: .ci/run installs them, so CI must have them")
pytestmark = pytest.mark.skipif(not (soffice and pdftoppm), reason=MISSING)


def test_libreoffice_shows_every_slide_with_its_picture(tmp_path):
    rows = [
        {"title": "Boots", "prompt": "hiking boots on a mountain", "bullets": ["Waterproof"]},
        {"title": "Tent", "prompt": "a tent in a forest", "layout": "Full Picture"},
    ]
    deck = make_deck(rows, tmp_path / "d.pptx", palette="#1f3a5f,#f2a541,#f4f1ea").path
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(deck),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    subprocess.run(
        [pdftoppm, "-r", "30", "-png", str(tmp_path / "d.pdf"), str(tmp_path / "p")],
        check=True,
        timeout=120,
    )
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == 3
    with Image.open(pages[0]) as cover:  # the title slide is filled with the first colour
        assert cover.convert("RGB").getpixel((5, 5)) == pytest.approx((31, 58, 95), abs=3)
    with Image.open(pages[1]) as page:  # Picture Right: the right half is the picture
        page = page.convert("RGB")
        right = page.crop((page.width // 2 + 2, 0, page.width, page.height))
        left = page.crop((0, 0, page.width // 2 - 2, page.height))
        assert len(right.getcolors(1 << 16) or range(1 << 16)) > 50  # a drawing, not a blank
        assert left.getpixel((left.width - 5, left.height - 5)) == (255, 255, 255)
