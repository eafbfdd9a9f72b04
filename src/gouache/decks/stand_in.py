"""The picture put where an image could not be made: plainly a stand-in, saying why."""

from __future__ import annotations

import textwrap
from pathlib import Path

from PIL import Image, ImageDraw

from gouache.decks.palette import Palette, hex_to_rgb, ink_for
from gouache.decks.typeset import fit_font


def draw_stand_in(path: Path, aspect: float, reason: str, palette: Palette) -> Path:
    """A light panel of the area's aspect with a dashed frame and the reason, saved as PNG."""
    height = 900
    width = max(1, round(height * aspect))
    background = hex_to_rgb(palette.colours[2] if len(palette.colours) > 2 else "#eeeeee")
    ink = ink_for(background, palette)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    margin = 40
    for x in range(margin, width - margin, 36):
        draw.line([(x, margin), (min(x + 18, width - margin), margin)], fill=ink, width=4)
        draw.line(
            [(x, height - margin), (min(x + 18, width - margin), height - margin)],
            fill=ink,
            width=4,
        )
    for y in range(margin, height - margin, 36):
        draw.line([(margin, y), (margin, min(y + 18, height - margin))], fill=ink, width=4)
        draw.line(
            [(width - margin, y), (width - margin, min(y + 18, height - margin))], fill=ink, width=4
        )
    # a full-slide picture has the title panel over its left third: keep the words clear of it
    left = int(width * 0.36) if aspect > 1.5 else 0
    room = width - left - 4 * margin
    wrap = max(12, int(room / 24))
    heading = fit_font("Picture not made", room, 90, weight=700)
    body = fit_font("x" * wrap, room, 44, weight=400)
    lines = textwrap.wrap(reason, wrap)[:8]
    y = height // 2 - (100 + 52 * len(lines)) // 2
    centre = left + (width - left) // 2
    draw.text((centre, y), "Picture not made", font=heading, fill=ink, anchor="mt")
    for index, line in enumerate(lines):
        draw.text((centre, y + 110 + 52 * index), line, font=body, fill=ink, anchor="mt")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path
