"""Drawing one thing: a glyph turned into a small flat illustration.

A bare icon looks like a test pattern; what makes it read as an illustration is the treatment:
a contact shadow that sets it on the ground, a darker half that suggests light from the upper
left, and for the line-drawn Noto Emoji a colour fill inside the outline (its silhouette) with
the lines inked in a deeper shade of the same colour. Line art and neon styles keep only the
lines (neon with a glow). All of it works on crops around the glyph.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageFilter

from .colours import RGB, luminance, mix, shade
from .compose import Placement
from .concepts import Concept
from .render import Canvas, glyph_mask, silhouette
from .styles import INK, Style


@lru_cache(maxsize=4096)
def ink_ratio(font: str, codepoint: int) -> float:
    """How large the ink of a glyph is relative to its font size (icons carry padding)."""
    mask = glyph_mask(font, codepoint, 200)
    return max(mask.width, mask.height) / 200.0


def glyph_for(concept: Concept, size: float, style: Style) -> tuple[Image.Image, int]:
    codepoint = concept.codepoint
    if style.outline and concept.font == "mdi" and concept.outline:
        codepoint = concept.outline
    ratio = ink_ratio(concept.font, codepoint)
    font_size = int(max(8, size / max(ratio, 0.2)))
    step = max(1, int(font_size * 0.04))
    font_size = int(round(font_size / step) * step)
    return glyph_mask(concept.font, codepoint, font_size), codepoint


def half_plane(width: int, height: int, split: float = 0.52) -> np.ndarray:
    """1 on the lower-right side of a diagonal through the crop, 0 elsewhere (soft edge)."""
    xs = np.arange(width, dtype=np.float32)[None, :] / max(1, width)
    ys = np.arange(height, dtype=np.float32)[:, None] / max(1, height)
    t = xs * 0.75 + ys * 0.25 - split
    return np.clip(t * max(width, height) * 0.5 + 0.5, 0.0, 1.0)


def draw_placement(
    canvas: Canvas,
    placement: Placement,
    concept: Concept,
    style: Style,
    floor: RGB,
    drop_shadow: bool = False,
) -> tuple[float, float, float, float]:
    """Draw one instance; returns its ink box (left, top, right, bottom)."""
    mask, codepoint = glyph_for(concept, placement.size, style)
    w, h = mask.size
    left = placement.cx - w / 2
    top = placement.cy - h / 2
    if placement.grounded:
        top = placement.cy + placement.size / 2 - h
    left, top = int(round(left)), int(round(top))
    colour = placement.colour
    lines_only = style.outline or style.glow
    if lines_only and concept.font == "mdi" and codepoint == concept.codepoint:
        mask = outline_of(mask, max(3, h // 28))  # a solid icon with no outline variant
    # The silhouette is cached for the glyph as drawn by the font; a mirrored drawing mirrors it.
    plain, flip = mask, placement.flip
    mask = mirrored(mask, flip)
    body: Image.Image | None = None
    if concept.font == "emoji" and (drop_shadow and style.shadows or not lines_only):
        body = mirrored(silhouette(plain, (concept.font, codepoint, w, h)), flip)
    if style.shadows and placement.grounded:
        shadow = shade(floor, 0.45) if luminance(floor) > 0.15 else (0, 0, 0)
        canvas.ellipse(
            left + w / 2,
            top + h - h * 0.01,
            w * 0.46,
            max(3.0, h * 0.055),
            shadow,
            opacity=0.35,
            softness=0.6,
        )
    if drop_shadow and style.shadows:
        blurred, margin = canvas.blurred(mask if body is None else body, max(2.0, h * 0.03))
        offset = int(h * 0.035)
        canvas.paste(
            shade(floor, 0.5), _scaled(blurred, 0.22), left - margin + offset, top - margin + offset
        )
    if style.glow:
        blurred, margin = canvas.blurred(mask, max(2.0, h * 0.035))
        canvas.paste(colour, _scaled(blurred, 1.0), left - margin, top - margin)
        canvas.paste(colour, mask, left, top)
        canvas.paste(mix(colour, (255, 255, 255), 0.6), _scaled(mask, 0.55), left, top)
        return left, top, left + w, top + h
    if lines_only:
        canvas.paste(colour if luminance(colour) < 0.6 else INK, mask, left, top)
        return left, top, left + w, top + h
    body = mask if body is None else body
    if concept.font == "emoji" and is_line_drawing(mask, body):
        canvas.paste(colour, body, left, top)
        if style.shading:
            canvas.paste(shade(colour, 0.18), _masked(body, half_plane(w, h)), left, top)
        line = (
            shade(colour, 0.62) if luminance(colour) > 0.18 else mix(colour, (255, 255, 255), 0.7)
        )
        canvas.paste(line, mask, left, top)
    else:
        canvas.paste(colour, mask, left, top)
        if style.shading:
            canvas.paste(shade(colour, 0.13), _masked(mask, half_plane(w, h)), left, top)
    return left, top, left + w, top + h


def mirrored(mask: Image.Image, flip: bool) -> Image.Image:
    return mask.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if flip else mask


# Glyphs that must not be mirrored: they carry writing or digits, or point a way.
UNMIRRORED_WORDS = frozenset(
    [
        "alpha",
        "alphabet",
        "letter",
        "letters",
        "numeric",
        "number",
        "abc",
        "text",
        "format",
        "keycap",
        "button",
        "sign",
        "signs",
        "flag",
        "flags",
        "clock",
        "calendar",
        "left",
        "right",
        "arrow",
        "arrows",
        "forward",
        "back",
        "rewind",
        "skip",
        "next",
        "previous",
        "undo",
        "redo",
        "sort",
        "ab",
        "id",
        "ok",
        "sos",
        "vs",
        "cool",
        "new",
        "free",
        "up",
        "ng",
        "atm",
        "wc",
        "tm",
        "copyright",
        "registered",
        "pi",
        "sigma",
        "currency",
        "dollar",
        "euro",
        "pound",
        "yen",
        "counter",
        "barcode",
        "qrcode",
    ]
)


def mirrorable(concept: Concept) -> bool:
    """Whether a drawing may be flipped left-right for a variation (writing and digits may not)."""
    words = concept.name.split()
    if any(ch.isdigit() for ch in concept.name):
        return False
    if any(len(word) == 1 and word != "a" for word in words):
        return False
    return not UNMIRRORED_WORDS.intersection(words)


def is_line_drawing(mask: Image.Image, body: Image.Image) -> bool:
    """Most emoji are outlines (fill them, ink the lines); a few are solid shapes (a red apple)
    that must be treated like icons or the ink would cover the fill."""
    ink = float(np.asarray(mask, dtype=np.float32).mean())
    area = float(np.asarray(body, dtype=np.float32).mean())
    return ink < 0.6 * max(area, 1e-3)


def _masked(mask: Image.Image, factor: np.ndarray) -> Image.Image:
    return Image.fromarray((np.asarray(mask, dtype=np.float32) * factor).astype(np.uint8), "L")


def _scaled(mask: Image.Image, opacity: float) -> Image.Image:
    if opacity >= 1.0:
        return mask
    return mask.point(lambda v: int(v * opacity))


def outline_of(mask: Image.Image, width: int) -> Image.Image:
    """The rim of a filled shape, for outline drawings of solid icons."""
    inner = mask.filter(ImageFilter.MinFilter(width | 1))
    return Image.fromarray(
        np.clip(
            np.asarray(mask, dtype=np.int16) - np.asarray(inner, dtype=np.int16), 0, 255
        ).astype(np.uint8),
        "L",
    )
