"""Colour names, modifiers, hex codes, and the palette arithmetic the styles are built on.

Colour words are matched by name, not by embedding: in the distilled encoder "crimson" is barely
closer to "red" than to "blue", while a table lookup is exact. The table is the XKCD colour survey
(949 names people actually use, CC0) plus the 148 CSS names, extracted from matplotlib by
scripts/build_colours.py. Modifiers (light, dark, pale, deep, pastel, neon...) adjust lightness and
saturation when the table has no entry for the whole phrase; near-miss spellings are caught by
difflib.
"""

from __future__ import annotations

import colorsys
import difflib
import json
import re

from .encoder import DATA
from .loading import filled_once

RGB = tuple[int, int, int]

HEX_RE = re.compile(r"^#?([0-9a-f]{6}|[0-9a-f]{3})$")
MODIFIERS = {
    # name: (lightness delta, saturation factor)
    "light": (0.18, 0.9),
    "lighter": (0.25, 0.9),
    "pale": (0.25, 0.55),
    "soft": (0.15, 0.7),
    "dark": (-0.2, 1.0),
    "darker": (-0.27, 1.0),
    "deep": (-0.15, 1.15),
    "pastel": (0.2, 0.6),
    "neon": (0.05, 1.6),
    "bright": (0.05, 1.3),
    "vivid": (0.0, 1.4),
    "electric": (0.03, 1.5),
    "muted": (0.0, 0.55),
    "dusty": (0.02, 0.5),
    "dull": (-0.03, 0.5),
}
# Colour words so common they are colours wherever they stand ("a car that is red").
BASIC = {
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "violet",
    "pink",
    "brown",
    "black",
    "white",
    "grey",
    "gray",
    "teal",
    "navy",
    "cyan",
    "magenta",
    "turquoise",
    "beige",
    "maroon",
    "crimson",
    "scarlet",
    "indigo",
    "lavender",
    "mint",
    "gold",
    "golden",
    "silver",
    "coral",
    "burgundy",
    "olive",
    "aqua",
    "tan",
    "ochre",
    "cobalt",
    "azure",
    "emerald",
    "charcoal",
}


@filled_once
def colour_table() -> dict[str, RGB]:
    """Every known name -> RGB. XKCD spellings first (survey colours look natural: xkcd "red"
    is #e50000, not the CSS #ff0000), CSS fills in the rest ("crimson", "navy", "darkorange")."""
    raw = json.loads((DATA / "colours.json").read_text())
    table: dict[str, RGB] = {}
    for name, value in {**raw["css"], **raw["xkcd"]}.items():
        key = name.replace("/", " ").replace("'", "").replace("-", " ").strip()
        table[key] = hex_to_rgb(value)
    table["gold"] = hex_to_rgb("#e0b43a")  # xkcd "gold" is a greenish mustard; designers mean this
    table["golden"] = table["gold"]
    table["silver"] = hex_to_rgb("#b8bec7")
    table["gray"] = table["grey"]
    return table


def hex_to_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def rgb_to_hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def lookup(phrase: str, fuzzy: bool = True) -> RGB | None:
    """A colour for a phrase such as "navy", "light sky blue", "#1e90ff", "neon pink" or
    "turquiose" (typo); None when the phrase is not a colour."""
    phrase = " ".join(phrase.lower().replace("-", " ").split())
    if not phrase:
        return None
    match = HEX_RE.match(phrase)
    if match and (phrase.startswith("#") or re.search(r"\d", phrase)):
        return hex_to_rgb(match.group(1))
    table = colour_table()
    if phrase in table:
        return table[phrase]
    words = phrase.split()
    if len(words) > 1 and words[0] in MODIFIERS:
        base = lookup(" ".join(words[1:]), fuzzy=fuzzy)
        if base is not None:
            return modify(base, words[0])
    if phrase.endswith("ish") and phrase[:-3] in table:  # "reddish" is close enough to red
        return table[phrase[:-3]]
    if fuzzy and len(phrase) >= 6 and " " not in phrase:
        close = difflib.get_close_matches(phrase, list(BASIC | set(MODIFIERS)), n=1, cutoff=0.85)
        if close and close[0] in table:
            return table[close[0]]
    return None


def modify(rgb: RGB, modifier: str) -> RGB:
    delta, factor = MODIFIERS[modifier]
    h, lightness, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    lightness = min(0.95, max(0.05, lightness + delta))
    s = min(1.0, s * factor)
    return from_hls(h, lightness, s)


def from_hls(h: float, lightness: float, s: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(1, max(0, lightness)), min(1, max(0, s)))
    return round(r * 255), round(g * 255), round(b * 255)


def to_hls(rgb: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(*(c / 255 for c in rgb))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend: t=0 gives a, t=1 gives b."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def shade(rgb: RGB, amount: float) -> RGB:
    """Darken (amount > 0) towards a deeper, slightly more saturated tone, as illustrators shade,
    or lighten (amount < 0) towards white."""
    h, lightness, s = to_hls(rgb)
    if amount >= 0:
        return from_hls(h, lightness * (1 - amount), min(1.0, s * (1 + amount * 0.3)))
    return from_hls(h, lightness + (1 - lightness) * -amount, s * (1 + amount * 0.3))


def luminance(rgb: RGB) -> float:
    r, g, b = (c / 255 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ink(background: RGB) -> RGB:
    """A dark or light neutral that reads on the given background."""
    return (32, 36, 48) if luminance(background) > 0.55 else (246, 244, 238)


def distance(a: RGB, b: RGB) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def name_of(rgb: RGB) -> str:
    """A plain colour word for a colour, for the sentence that says what was understood: the
    hue decides the word, lightness adds "light" or "dark"."""
    h, lightness, s = to_hls(rgb)
    if s < 0.18 or lightness > 0.94 or lightness < 0.08:
        if lightness > 0.88:
            return "white"
        if lightness < 0.14:
            return "black"
        return "light grey" if lightness > 0.6 else "dark grey" if lightness < 0.35 else "grey"
    degrees = h * 360
    names = [
        (15, "red"),
        (40, "orange"),
        (52, "gold"),
        (68, "yellow"),
        (160, "green"),
        (195, "teal"),
        (250, "blue"),
        (315, "purple"),
        (335, "pink"),
        (361, "red"),
    ]
    word = next(name for limit, name in names if degrees < limit)
    if word == "orange" and lightness < 0.4:
        return "brown"
    if word == "blue" and lightness < 0.3:
        return "navy"
    if word == "red" and lightness > 0.7:
        return "pink"
    if lightness > 0.72 and word not in ("pink",):
        return "light " + word
    if lightness < 0.28 and word not in ("navy", "brown"):
        return "dark " + word
    return word
