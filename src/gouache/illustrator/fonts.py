"""Where the glyph fonts live, and one cached Pillow font object per (font, pixel size).

The fonts are read from the installed PyPI packages (never copied, never downloaded): the packages
are found with `importlib.util.find_spec`, which locates a package without importing it (qtawesome
itself would try to import Qt). Opening a 1.3 MB TrueType file costs about a millisecond per size,
so sizes are rounded to a few steps and each opened font is kept.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

# key -> (package, font file inside the package, charmap file or "")
FONT_FILES: dict[str, tuple[str, str, str]] = {
    "mdi": (
        "qtawesome",
        "fonts/materialdesignicons6-webfont-6.9.96.ttf",
        "materialdesignicons6-webfont-charmap-6.9.96.json",
    ),
    "emoji": ("manimgx_fonts", "NotoEmoji[wght].ttf", ""),
}


class FontMissingError(RuntimeError):
    """A glyph font package is not installed; the message says which one to install."""


@lru_cache(maxsize=8)
def font_path(key: str) -> Path:
    package, relative, _ = FONT_FILES[key]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip_name = package.replace("_", "-")
        raise FontMissingError(
            f"the illustrator needs the {pip_name!r} package: pip install {pip_name}"
        )
    return Path(list(spec.submodule_search_locations)[0]) / relative


def quantize_size(size: float) -> int:
    """Round a pixel size to ~6% steps so the font cache stays small across image sizes."""
    size = max(8.0, float(size))
    step = max(1, int(size * 0.06))
    return int(round(size / step) * step)


@lru_cache(maxsize=256)
def glyph_font(key: str, size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    """The glyph font at a pixel size; call and use it holding `loading.FREETYPE`."""
    font = ImageFont.truetype(str(font_path(key)), size)
    if key == "emoji":
        # The variable Noto Emoji font: a heavier stroke reads better at illustration sizes.
        font.set_variation_by_axes([650 if bold else 400])
    return font
