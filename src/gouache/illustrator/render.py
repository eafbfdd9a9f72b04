"""Rasterising: anti-aliased vector shapes and glyphs composited onto a Pillow canvas.

Pillow fills polygons without anti-aliasing, so shapes are drawn as coverage masks instead:
circles and height-field silhouettes (hills, waves, dunes) from a signed distance computed with
numpy over their bounding box only, general polygons by drawing 3x larger and box-reducing the
crop. Glyphs come anti-aliased from FreeType. Every mask is pasted with `Image.paste(colour, box,
mask)`, which runs in C. Gradients are built as one row or column and broadcast, and blurs
(shadows, glows) run on crops, never on the whole canvas: that is what keeps a 1024x1024
picture under ~60 ms on one core.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .colours import RGB
from .fonts import glyph_font, quantize_size
from .loading import FREETYPE, LockedLRU

SUPERSAMPLE = 3


def _alpha_mask(coverage: np.ndarray, opacity: float = 1.0) -> Image.Image:
    return Image.fromarray((np.clip(coverage, 0.0, 1.0) * (255.0 * opacity)).astype(np.uint8), "L")


class Canvas:
    """An RGB picture plus, for transparent output, a coverage (alpha) channel of what was drawn."""

    def __init__(
        self, width: int, height: int, background: RGB = (255, 255, 255), track_alpha: bool = False
    ) -> None:
        self.width, self.height = width, height
        self.image = Image.new("RGB", (width, height), background)
        self.alpha = Image.new("L", (width, height), 0) if track_alpha else None
        self.paint_background = not track_alpha

    @property
    def short(self) -> int:
        return min(self.width, self.height)

    # -- compositing -------------------------------------------------------------------------
    def paste(
        self, colour: RGB, mask: Image.Image, x: int, y: int, background: bool = False
    ) -> None:
        """Composite a solid colour through a coverage mask placed with its top-left at (x, y).
        Background layers are skipped on transparent canvases (the background stays clear)."""
        if background and not self.paint_background:
            return
        box = (int(x), int(y))
        self.image.paste(colour, box + (box[0] + mask.width, box[1] + mask.height), mask)
        if self.alpha is not None and not background:
            self.alpha.paste(255, box + (box[0] + mask.width, box[1] + mask.height), mask)

    def put(self, layer: Image.Image, x: int = 0, y: int = 0, background: bool = True) -> None:
        if background and not self.paint_background:
            return
        self.image.paste(layer, (int(x), int(y)))

    # -- backgrounds -------------------------------------------------------------------------
    def vertical_gradient(
        self, stops: Sequence[tuple[float, RGB]], top: int = 0, bottom: int | None = None
    ) -> None:
        """Fill rows top..bottom with a multi-stop gradient (built as one column, broadcast)."""
        bottom = self.height if bottom is None else bottom
        rows = max(1, bottom - top)
        column = Image.fromarray(gradient_lut(stops, rows)[:, None, :], "RGB")
        # Widening a one-pixel column with NEAREST copies it exactly, in C.
        self.put(column.resize((self.width, rows), Image.NEAREST), 0, top)

    def diagonal_gradient(self, stops: Sequence[tuple[float, RGB]], angle: float = 0.6) -> None:
        """A linear gradient at an angle (radians from horizontal), via a 1024-entry lookup."""
        w, h = self.width, self.height
        # A linear ramp is computed on a 1/4 grid and widened bilinearly: bilinear
        # interpolation of a linear function is exact, so nothing is lost but time.
        sw, sh = max(2, w // 4 + 1), max(2, h // 4 + 1)
        cx, cy = np.cos(angle), np.sin(angle)
        xs = (np.linspace(0, w, sw, dtype=np.float32) * cx)[None, :]
        ys = (np.linspace(0, h, sh, dtype=np.float32) * cy)[:, None]
        t = xs + ys
        lo, hi = float(t.min()), float(t.max())
        lut = gradient_lut(stops, 1024)
        index = ((t - lo) * (1023.0 / max(1e-6, hi - lo))).astype(np.int16)
        small = Image.fromarray(lut[index], "RGB")
        self.put(small.resize((w, h), Image.BILINEAR))

    def glow(
        self,
        cx: float,
        cy: float,
        radius: float,
        colour: RGB,
        strength: float = 0.6,
        background: bool = True,
    ) -> None:
        """A soft radial light (sun haze, nebula, spotlight) with a smooth quadratic falloff."""
        x0, y0 = max(0, int(cx - radius)), max(0, int(cy - radius))
        x1, y1 = min(self.width, int(cx + radius) + 1), min(self.height, int(cy + radius) + 1)
        if x1 <= x0 or y1 <= y0:
            return
        # The falloff is smooth, so it is evaluated on a 1/4 grid and widened bilinearly.
        step = 4.0
        ys = (np.arange(y0, y1 + step, step, dtype=np.float32) - cy)[:, None] ** 2
        xs = (np.arange(x0, x1 + step, step, dtype=np.float32) - cx)[None, :] ** 2
        d = np.sqrt(xs + ys) / radius
        coverage = np.clip(1.0 - d, 0.0, 1.0) ** 2
        small = _alpha_mask(coverage, strength)
        mask = small.resize(
            (x1 - x0, y1 - y0), Image.BILINEAR, box=(0, 0, (x1 - x0) / step, (y1 - y0) / step)
        )
        self.paste(colour, mask, x0, y0, background=background)

    # -- shapes ------------------------------------------------------------------------------
    def circle(
        self,
        cx: float,
        cy: float,
        r: float,
        colour: RGB,
        opacity: float = 1.0,
        background: bool = False,
    ) -> None:
        if r < 4:  # stars, dots, snowflakes: a cached tiny mask is 10x cheaper
            mask = _dot(round(r * 4) / 4, round(opacity * 16) / 16)
            half = mask.width // 2
            self.paste(colour, mask, int(round(cx)) - half, int(round(cy)) - half, background)
            return
        x0, y0 = max(0, int(cx - r - 1)), max(0, int(cy - r - 1))
        x1, y1 = min(self.width, int(cx + r + 2)), min(self.height, int(cy + r + 2))
        if x1 <= x0 or y1 <= y0 or r <= 0:
            return
        ys = (np.arange(y0, y1, dtype=np.float32) + 0.5 - cy)[:, None] ** 2
        xs = (np.arange(x0, x1, dtype=np.float32) + 0.5 - cx)[None, :] ** 2
        coverage = r - np.sqrt(xs + ys) + 0.5
        self.paste(colour, _alpha_mask(coverage, opacity), x0, y0, background=background)

    def ring(
        self,
        cx: float,
        cy: float,
        r: float,
        width: float,
        colour: RGB,
        opacity: float = 1.0,
        background: bool = False,
    ) -> None:
        x0, y0 = max(0, int(cx - r - 2)), max(0, int(cy - r - 2))
        x1, y1 = min(self.width, int(cx + r + 3)), min(self.height, int(cy + r + 3))
        if x1 <= x0 or y1 <= y0:
            return
        ys = (np.arange(y0, y1, dtype=np.float32) + 0.5 - cy)[:, None] ** 2
        xs = (np.arange(x0, x1, dtype=np.float32) + 0.5 - cx)[None, :] ** 2
        coverage = width / 2 - np.abs(np.sqrt(xs + ys) - (r - width / 2)) + 0.5
        self.paste(colour, _alpha_mask(coverage, opacity), x0, y0, background=background)

    def ellipse(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        colour: RGB,
        opacity: float = 1.0,
        softness: float = 0.0,
        background: bool = False,
    ) -> None:
        """An ellipse; with softness > 0 its edge fades (used for contact shadows)."""
        x0, y0 = max(0, int(cx - rx - 1)), max(0, int(cy - ry - 1))
        x1, y1 = min(self.width, int(cx + rx + 2)), min(self.height, int(cy + ry + 2))
        if x1 <= x0 or y1 <= y0 or rx <= 0 or ry <= 0:
            return
        ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5 - cy) / ry)[:, None] ** 2
        xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5 - cx) / rx)[None, :] ** 2
        d = np.sqrt(xs + ys)
        if softness > 0:
            coverage = np.clip((1.0 - d) / softness, 0.0, 1.0)
        else:
            coverage = (1.0 - d) * min(rx, ry) + 0.5
        self.paste(colour, _alpha_mask(coverage, opacity), x0, y0, background=background)

    def rounded_rect(
        self,
        box: tuple[float, float, float, float],
        radius: float,
        colour: RGB,
        opacity: float = 1.0,
        background: bool = False,
    ) -> None:
        left, top, right, bottom = box
        x0, y0 = max(0, int(left)), max(0, int(top))
        x1, y1 = min(self.width, int(right) + 1), min(self.height, int(bottom) + 1)
        if x1 <= x0 or y1 <= y0:
            return
        cx, cy = (left + right) / 2, (top + bottom) / 2
        hw, hh = (right - left) / 2, (bottom - top) / 2
        radius = min(radius, hw, hh)
        qx = np.abs(np.arange(x0, x1, dtype=np.float32) + 0.5 - cx)[None, :] - (hw - radius)
        qy = np.abs(np.arange(y0, y1, dtype=np.float32) + 0.5 - cy)[:, None] - (hh - radius)
        outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
        inside = np.minimum(np.maximum(qx, qy), 0)
        coverage = radius - (outside + inside) + 0.5
        self.paste(colour, _alpha_mask(coverage, opacity), x0, y0, background=background)

    def rect(
        self, box: tuple[float, float, float, float], colour: RGB, background: bool = False
    ) -> None:
        """Axis-aligned rectangle on whole pixels (buildings, windows): needs no anti-aliasing."""
        left, top, right, bottom = (int(round(v)) for v in box)
        left, top = max(0, left), max(0, top)
        right, bottom = min(self.width, right), min(self.height, bottom)
        if right <= left or bottom <= top:
            return
        mask = Image.new("L", (right - left, bottom - top), 255)
        self.paste(colour, mask, left, top, background=background)

    def polygon(
        self,
        points: Sequence[tuple[float, float]],
        colour: RGB,
        opacity: float = 1.0,
        background: bool = False,
    ) -> None:
        """Any polygon, anti-aliased by drawing its bounding crop 3x larger and reducing."""
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x0, y0 = max(0, int(min(xs))), max(0, int(min(ys)))
        x1, y1 = min(self.width, int(max(xs)) + 2), min(self.height, int(max(ys)) + 2)
        if x1 <= x0 or y1 <= y0:
            return
        # 3x on small shapes; big ones (mountains) look as smooth at 2x, for half the cost.
        s = SUPERSAMPLE if (x1 - x0) * (y1 - y0) < 120_000 else 2
        big = Image.new("L", ((x1 - x0) * s, (y1 - y0) * s), 0)
        ImageDraw.Draw(big).polygon(
            [((x - x0) * s, (y - y0) * s) for x, y in points], fill=int(255 * opacity)
        )
        self.paste(colour, big.reduce(s), x0, y0, background=background)

    def skyline(
        self,
        heights: np.ndarray,
        colour: RGB,
        bottom: int | None = None,
        opacity: float = 1.0,
        background: bool = True,
    ) -> None:
        """Fill everything below a per-column height profile (hills, waves, dunes, snowbanks).
        Coverage uses the distance to the curve corrected by its slope, so steep flanks stay
        smooth; rows entirely below the curve are filled as one block."""
        bottom = self.height if bottom is None else bottom
        top = max(0, int(np.floor(heights.min())) - 1)
        solid = min(bottom, int(np.ceil(heights.max())) + 1)
        if solid > top:
            slope = np.gradient(heights).astype(np.float32)
            scale = 1.0 / np.sqrt(1.0 + slope * slope)
            ys = np.arange(top, solid, dtype=np.float32)[:, None] + 0.5
            coverage = (ys - heights[None, :]) * scale[None, :] + 0.5
            self.paste(colour, _alpha_mask(coverage, opacity), 0, top, background=background)
        if bottom > solid:
            if opacity >= 1.0 and (self.paint_background or not background):
                self.image.paste(colour, (0, solid, self.width, bottom))
                if self.alpha is not None and not background:
                    self.alpha.paste(255, (0, solid, self.width, bottom))
            else:
                block = Image.new("L", (self.width, bottom - solid), int(255 * opacity))
                self.paste(colour, block, 0, solid, background=background)

    # -- glyphs ------------------------------------------------------------------------------
    def glyph_mask(self, font: str, codepoint: int, size: float) -> Image.Image:
        return glyph_mask(font, codepoint, quantize_size(size))

    def blurred(self, mask: Image.Image, radius: float) -> tuple[Image.Image, int]:
        """A blurred copy of a mask with a margin so the blur is not clipped; returns the margin."""
        margin = int(radius * 2) + 1
        padded = Image.new("L", (mask.width + 2 * margin, mask.height + 2 * margin), 0)
        padded.paste(mask, (margin, margin))
        # Blurring a quarter-size copy and scaling back is ~10x cheaper and invisible in a shadow.
        small = padded.reduce(2) if radius >= 4 else padded
        small = small.filter(ImageFilter.GaussianBlur(radius / (2 if radius >= 4 else 1)))
        if small.size != padded.size:
            small = small.resize(padded.size, Image.BILINEAR)
        return small, margin


_GLYPHS = LockedLRU(512)
_SILHOUETTES = LockedLRU(256)


def glyph_mask(font: str, codepoint: int, size: int) -> Image.Image:
    """The anti-aliased coverage mask of one glyph, cropped to its ink (cached)."""
    key = (font, codepoint, size)
    cached = _GLYPHS.get(key)
    if cached is not None:
        return cached
    with FREETYPE:
        face = glyph_font(font, size)
        left, top, right, bottom = face.getbbox(chr(codepoint))
        mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
        ImageDraw.Draw(mask).text((-left, -top), chr(codepoint), font=face, fill=255)
    _GLYPHS.remember(key, mask)
    return mask


def silhouette(mask: Image.Image, key: tuple[object, ...]) -> Image.Image:
    """The glyph's outer shape with its inside filled: what is not reachable from the border
    without crossing ink. Line-drawn emoji become solid shapes that can carry a colour fill."""
    cached = _SILHOUETTES.get(key)
    if cached is not None:
        return cached
    ink = np.asarray(mask) > 90
    pad = np.pad(ink, 2)
    outside = np.zeros_like(pad)
    outside[0, :] = outside[-1, :] = True
    outside[:, 0] = outside[:, -1] = True
    # Rays from the four borders, then a few spreading passes to reach into concave pockets.
    free = ~pad
    outside |= np.logical_and.accumulate(free, axis=0) | np.logical_and.accumulate(free, axis=1)
    outside |= np.logical_and.accumulate(free[::-1], axis=0)[::-1]
    outside |= np.logical_and.accumulate(free[:, ::-1], axis=1)[:, ::-1]
    for _ in range(64):
        grown = outside.copy()
        grown[1:] |= outside[:-1]
        grown[:-1] |= outside[1:]
        grown[:, 1:] |= outside[:, :-1]
        grown[:, :-1] |= outside[:, 1:]
        grown &= free
        grown |= outside
        if np.array_equal(grown, outside):
            break
        outside = grown
    inside = ~outside[2:-2, 2:-2]
    filled = Image.fromarray((inside * 255).astype(np.uint8), "L")
    filled = Image.composite(Image.new("L", mask.size, 255), mask, filled)  # keep AA outer edge
    filled = Image.fromarray(np.maximum(np.asarray(filled), np.asarray(mask)))
    _SILHOUETTES.remember(key, filled)
    return filled


@lru_cache(maxsize=256)
def _dot(r: float, opacity: float) -> Image.Image:
    size = int(np.ceil(r)) * 2 + 3
    c = size / 2
    ys = (np.arange(size, dtype=np.float32) + 0.5 - c)[:, None] ** 2
    xs = (np.arange(size, dtype=np.float32) + 0.5 - c)[None, :] ** 2
    return _alpha_mask(r - np.sqrt(xs + ys) + 0.5, opacity)


def gradient_lut(stops: Sequence[tuple[float, RGB]], n: int) -> np.ndarray:
    """n colours interpolated through (position 0..1, colour) stops, as uint8 rows."""
    positions = np.array([p for p, _ in stops], dtype=np.float32)
    colours = np.array([c for _, c in stops], dtype=np.float32)
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out = np.stack([np.interp(t, positions, colours[:, k]) for k in range(3)], axis=1)
    return out.round().astype(np.uint8)
