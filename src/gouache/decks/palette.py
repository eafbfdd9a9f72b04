"""A brand or deck palette: a few `#rrggbb` colours, parsed strictly, written as JSON and CSS.

The same palette is named in every prompt of a deck or kit (so every picture is asked for in the
same colours) and drawn by gouache itself where type and bands are set, so the colours hold even
when the engine takes them loosely.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from gouache.errors import InvalidRequest

HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
MAX_COLOURS = 8

# Used when no palette is given: one is picked by the seed base, so a run is still repeatable.
DEFAULT_PALETTES: tuple[tuple[str, ...], ...] = (
    ("#1f3a5f", "#f2a541", "#f4f1ea", "#3e7cb1"),
    ("#264653", "#2a9d8f", "#e9c46a", "#f4a261"),
    ("#22223b", "#c9ada7", "#f2e9e4", "#9a8c98"),
    ("#0b3954", "#ff5a5f", "#fefffe", "#087e8b"),
)
ROLE_NAMES = ("primary", "accent", "light", "secondary", "extra-1", "extra-2", "extra-3", "extra-4")

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    colours: tuple[str, ...]  # lower-case #rrggbb, in the order given

    @property
    def rgb(self) -> list[RGB]:
        return [hex_to_rgb(colour) for colour in self.colours]

    def phrase(self) -> str:
        """How the palette is named in a prompt: 'in #1f3a5f, #f2a541 and #f4f1ea'."""
        items = list(self.colours)
        if len(items) == 1:
            return f"in {items[0]}"
        return "in " + ", ".join(items[:-1]) + " and " + items[-1]

    def roles(self) -> dict[str, str]:
        return dict(zip(ROLE_NAMES, self.colours, strict=False))

    def to_json(self, name: str) -> str:
        body = {
            "name": name,
            "colours": [
                {"role": role, "hex": colour, "rgb": list(hex_to_rgb(colour))}
                for role, colour in self.roles().items()
            ],
        }
        return json.dumps(body, indent=2) + "\n"

    def to_css(self, name: str) -> str:
        lines = [f"/* {name}: brand palette */", ":root {"]
        lines += [f"  --brand-{role}: {colour};" for role, colour in self.roles().items()]
        lines.append("}")
        return "\n".join(lines) + "\n"


def hex_to_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def parse_palette(text: str | list[str] | tuple[str, ...] | None, *, seed: int = 0) -> Palette:
    """`"#1f3a5f,#f2a541"` or a list of such strings; None picks a default palette by `seed`.

    Raises `InvalidRequest` (param `palette`) naming the item that is not a colour."""
    if text is None:
        return Palette(DEFAULT_PALETTES[seed % len(DEFAULT_PALETTES)])
    items = text.split(",") if isinstance(text, str) else list(text)
    items = [str(item).strip() for item in items if str(item).strip()]
    if not items:
        raise InvalidRequest(
            'The palette is empty: give 1 to 8 colours as #rrggbb, e.g. "#1f3a5f,#f2a541".',
            param="palette",
        )
    if len(items) > MAX_COLOURS:
        raise InvalidRequest(
            f"The palette has {len(items)} colours; at most {MAX_COLOURS} are allowed.",
            param="palette",
        )
    colours = []
    for item in items:
        match = HEX.fullmatch(item)
        if match is None:
            raise InvalidRequest(
                f"Palette colour {item!r} is not a hex colour; write each as #rrggbb "
                "(e.g. #1f3a5f), separated by commas.",
                param="palette",
            )
        digits = match.group(1).lower()
        if len(digits) == 3:
            digits = "".join(ch * 2 for ch in digits)
        colours.append("#" + digits)
    return Palette(tuple(colours))


def luminance(rgb: RGB) -> float:
    """Relative luminance (WCAG), to choose dark or light type on a colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_for(background: RGB, palette: Palette) -> RGB:
    """The palette colour that reads best on `background` (or black/white when none reads)."""
    best = max(palette.rgb, key=lambda colour: contrast(colour, background))
    if contrast(best, background) >= 4.5:
        return best
    white, black = (255, 255, 255), (17, 17, 17)
    return white if contrast(white, background) >= contrast(black, background) else black
