"""The parts of a brand kit gouache draws itself: the name set in type beside a generated mark
(so the name reads the same whatever engine drew the mark), and the name on social images."""

from __future__ import annotations

from PIL import Image, ImageDraw

from gouache.decks.palette import RGB, Palette, contrast, hex_to_rgb, ink_for
from gouache.decks.typeset import fit_font

WHITE: RGB = (255, 255, 255)
LOGO_SIZE = (1600, 600)


def name_colour(palette: Palette, background: RGB = WHITE) -> RGB:
    """The first palette colour that reads on `background` (WCAG 4.5:1), else the best one."""
    for colour in palette.rgb:
        if contrast(colour, background) >= 4.5:
            return colour
    return ink_for(background, palette)


def logo_lockup(mark: Image.Image, name: str, palette: Palette, variant: int) -> Image.Image:
    """A horizontal logo draft: the mark in a palette-coloured disc on the left, the name to its
    right in bold type. Variants change the disc colour and the type weight."""
    width, height = LOGO_SIZE
    canvas = Image.new("RGB", (width, height), WHITE)
    disc = palette.rgb[variant % len(palette.rgb)]
    side = 440
    top = (height - side) // 2
    left = 80
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side - 1, side - 1), fill=255)
    ring = Image.new("RGB", (side, side), disc)
    inner = mark.convert("RGB").resize((side - 48, side - 48), Image.Resampling.LANCZOS)
    inner_mask = Image.new("L", inner.size, 0)
    ImageDraw.Draw(inner_mask).ellipse((0, 0, inner.width - 1, inner.height - 1), fill=255)
    ring.paste(inner, (24, 24), inner_mask)
    canvas.paste(ring, (left, top), mask)
    text_left = left + side + 70
    weight = (800, 700, 600)[variant % 3]
    face = fit_font(name, width - text_left - 80, 200, weight=weight)
    draw = ImageDraw.Draw(canvas)
    draw.text((text_left, height // 2), name, font=face, fill=name_colour(palette), anchor="lm")
    return canvas


def name_on_picture(picture: Image.Image, name: str, palette: Palette) -> Image.Image:
    """A social image: the picture with a band in the first palette colour across its top (where
    engines leave sky or calm space; subjects tend to stand low), the name set large in it."""
    image = picture.convert("RGB").copy()
    width, height = image.size
    band = max(int(min(width, height) * 0.22), 90)
    primary = hex_to_rgb(palette.colours[0])
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, band), fill=primary)
    accent = palette.rgb[1] if len(palette.rgb) > 1 else ink_for(primary, palette)
    draw.rectangle((0, band - max(band // 14, 4), width, band), fill=accent)
    margin = int(band * 0.35)
    face = fit_font(name, width - 2 * margin, int(band * 0.5))
    ink = ink_for(primary, palette)
    draw.text((margin, band // 2 - band // 28), name, font=face, fill=ink, anchor="lm")
    return image
