"""Styles: how colours are mapped, how things are drawn (filled, outlined, glowing), and the finish.

A style is data, not a code path: every colour a scene or subject asks for passes through
`Style.tint`, so pastel, retro or monochrome apply to skies, hills and glyphs alike; the glyph
treatment (`fill`, `outline`, `glow`) and the finishing texture are switches that render and the
illustrator read. Default palettes are a handful of designer palettes, chosen per seed, so that
n pictures of one prompt differ but always agree with themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops

from . import colours
from .colours import RGB, from_hls, hex_to_rgb, mix, to_hls

DESIGNER_PALETTES: list[list[str]] = [
    ["#ff6b6b", "#4ecdc4", "#ffd166", "#1a535c", "#f7fff7"],
    ["#e76f51", "#f4a261", "#e9c46a", "#2a9d8f", "#264653"],
    ["#ef476f", "#ffd166", "#06d6a0", "#118ab2", "#073b4c"],
    ["#fb8500", "#ffb703", "#8ecae6", "#219ebc", "#023047"],
    ["#e56b6f", "#b56576", "#eaac8b", "#6d597a", "#355070"],
    ["#ff9f1c", "#2ec4b6", "#ffbf69", "#3d405b", "#cbf3f0"],
    ["#ee6c4d", "#98c1d9", "#3d5a80", "#293241", "#e0fbfc"],
    ["#f28482", "#84a59d", "#f6bd60", "#264653", "#f5cac3"],
    ["#7209b7", "#f72585", "#4cc9f0", "#3a0ca3", "#fdf0d5"],
    ["#d62828", "#f77f00", "#fcbf49", "#003049", "#eae2b7"],
]
NEON_COLOURS = ["#ff2fd6", "#25f4ee", "#faff00", "#7cff4f", "#ff7a18", "#9b5cff"]
CREAM = hex_to_rgb("#f4ecd8")
INK = hex_to_rgb("#1f2433")


@dataclass(frozen=True)
class Style:
    """How a picture is finished. `tint` maps every colour; the flags steer glyph drawing."""

    name: str
    fill: bool = True  # glyphs drawn as coloured shapes
    outline: bool = False  # glyphs drawn as lines only
    glow: bool = False  # neon tubes: a blurred halo under the lines
    shading: bool = True  # the darker half on filled shapes that reads as light and depth
    shadows: bool = True
    texture: str | None = None  # "paper" | "grain"
    dark: bool = False  # backgrounds go to night tones
    mono_hue: RGB | None = None

    def tint(self, rgb: RGB) -> RGB:
        """Map a colour into the style's colour world."""
        if self.name == "pastel":
            h, lightness, s = to_hls(rgb)
            return from_hls(h, 0.72 + lightness * 0.2, min(0.65, s * 0.75 + 0.1))
        if self.name == "retro":
            h, lightness, s = to_hls(mix(rgb, hex_to_rgb("#e8a33d"), 0.12))
            return mix(from_hls(h, 0.12 + lightness * 0.76, s * 0.7), CREAM, 0.12)
        if self.name == "monochrome":
            hue = self.mono_hue or INK
            t = colours.luminance(rgb)
            dark = colours.shade(hue, 0.55) if colours.luminance(hue) > 0.25 else hue
            return mix(dark, (248, 247, 244), t**0.9)
        if self.name == "gouache":
            h, lightness, s = to_hls(rgb)
            return mix(from_hls(h, lightness, s * 0.85), CREAM, 0.08)
        if self.name == "line":
            return mix(rgb, (255, 253, 248), 0.82)
        if self.name == "neon":
            h, lightness, s = to_hls(rgb)
            return from_hls(h, 0.55 + 0.1 * lightness, min(1.0, s * 1.4 + 0.3))
        return rgb

    def background_tint(self, rgb: RGB) -> RGB:
        """Backgrounds: neon turns them to deep night tones; line art to paper."""
        if self.name == "neon":
            h, _, s = to_hls(rgb)
            return from_hls(h, 0.09, min(1.0, 0.5 + s * 0.3))
        return self.tint(rgb)


def style_named(name: str, mono_hue: RGB | None = None) -> Style:
    if name == "line":
        return Style(
            "line", fill=False, outline=True, shading=False, shadows=False, texture="paper"
        )
    if name == "neon":
        return Style(
            "neon", fill=False, outline=True, glow=True, shading=False, shadows=False, dark=True
        )
    if name == "retro":
        return Style("retro", texture="grain")
    if name == "monochrome":
        return Style("monochrome", mono_hue=mono_hue)
    if name == "gouache":
        return Style("gouache", texture="paper", shading=True)
    if name == "pastel":
        return Style("pastel", shadows=True)
    return Style("flat")


def default_palette(rng: np.random.Generator) -> list[RGB]:
    """A designer palette for prompts that name no colours; one per seed."""
    chosen = DESIGNER_PALETTES[int(rng.integers(len(DESIGNER_PALETTES)))]
    return [hex_to_rgb(c) for c in chosen]


def neon_palette(rng: np.random.Generator) -> list[RGB]:
    order = rng.permutation(len(NEON_COLOURS))
    return [hex_to_rgb(NEON_COLOURS[i]) for i in order]


@lru_cache(maxsize=8)
def _texture(kind: str, width: int, height: int) -> Image.Image:
    """A deterministic texture per size: paper fibres and blotches, or film grain. Cached, so it
    costs one multiply per picture."""
    rng = np.random.default_rng(7)
    fine = rng.normal(0.0, 1.0, (height, width)).astype(np.float32)
    if kind == "paper":
        coarse = Image.fromarray(
            (rng.random((max(2, height // 48), max(2, width // 48))) * 255).astype(np.uint8), "L"
        ).resize((width, height), Image.BICUBIC)
        blotch = np.asarray(coarse, dtype=np.float32) / 255.0
        value = 246.0 - 7.0 * blotch + 4.0 * fine
    else:
        value = 247.0 + 6.0 * fine
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        r = np.sqrt(((xx / width) - 0.5) ** 2 + ((yy / height) - 0.5) ** 2)
        value -= 40.0 * np.clip(r - 0.45, 0, None)  # a faint vignette
    layer = Image.fromarray(np.clip(value, 0, 255).astype(np.uint8), "L")
    return Image.merge("RGB", (layer, layer, layer))


def finish(image: Image.Image, style: Style) -> Image.Image:
    """Apply the style's surface texture (multiplied, like pigment on paper)."""
    if style.texture is None:
        return image
    return ImageChops.multiply(image, _texture(style.texture, image.width, image.height))
