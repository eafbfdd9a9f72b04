"""Real type on a design: names on logos, sale lines on banners, titles on posters and cards.

The type is Noto Sans (the variable font shipped in the same package as the emoji font, SIL Open
Font License), set bold. A line is sized to fill the box it is given and never below a legible
floor relative to the picture, so a name reads at 256 pixels as well as at 1792.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import ImageDraw, ImageFont

from .colours import RGB
from .fonts import font_path
from .loading import FREETYPE
from .render import Canvas


@lru_cache(maxsize=64)
def type_font(size: int, weight: int = 760) -> ImageFont.FreeTypeFont:
    """The type at a size and weight; call and use it holding `FREETYPE`."""
    path = font_path("emoji").with_name("NotoSans[wght].ttf")
    font = ImageFont.truetype(str(path), max(6, size))
    font.set_variation_by_axes([weight])
    return font


def fitted_size(text: str, width: float, height: float) -> int:
    """The largest whole pixel size at which `text` fits in width x height."""
    size = max(6, int(height))
    with FREETYPE:
        left, top, right, bottom = type_font(100).getbbox(text)
    ratio_w = (right - left) / 100.0 or 1.0
    ratio_h = (bottom - top) / 100.0 or 1.0
    size = int(min(width / ratio_w, height / ratio_h))
    return max(6, size)


def set_line(
    canvas: Canvas,
    text: str,
    box: tuple[float, float, float, float],
    colour: RGB,
    align: str = "center",
    weight: int = 760,
) -> tuple[float, float, float, float]:
    """Set one line of type as large as fits in `box`; returns the ink box it covers."""
    x0, y0, x1, y1 = box
    size = fitted_size(text, x1 - x0, y1 - y0)
    with FREETYPE:
        font = type_font(size, weight)
        left, top, right, bottom = font.getbbox(text)
        tw, th = right - left, bottom - top
        x = x0 - left if align == "left" else (x0 + x1) / 2 - tw / 2 - left
        y = (y0 + y1) / 2 - th / 2 - top
        ImageDraw.Draw(canvas.image).text((x, y), text, font=font, fill=colour)
        if canvas.alpha is not None:
            ImageDraw.Draw(canvas.alpha).text((x, y), text, font=font, fill=255)
    return x + left, y + top, x + right, y + bottom


def set_lines(
    canvas: Canvas,
    lines: list[str],
    box: tuple[float, float, float, float],
    colours: list[RGB],
    align: str = "center",
) -> list[tuple[float, float, float, float]]:
    """Lines stacked in a box: the first line (the name, the headline) twice as tall as the rest."""
    x0, y0, x1, y1 = box
    weights = [2.0] + [1.0] * (len(lines) - 1)
    unit = (y1 - y0) / (sum(weights) + 0.35 * (len(lines) - 1))
    boxes, y = [], y0
    for k, (line, weight) in enumerate(zip(lines, weights, strict=True)):
        height = unit * weight
        boxes.append(
            set_line(canvas, line, (x0, y, x1, y + height), colours[k % len(colours)], align)
        )
        y += height + unit * 0.35
    return boxes
