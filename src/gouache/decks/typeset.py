"""Type for names, labels and stand-ins: Noto Sans, read from the installed `manimgx-fonts`
package (SIL Open Font License; see NOTICE), at a weight and a size that fits a width."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

PACKAGE, FILE = "manimgx_fonts", "NotoSans[wght].ttf"


@lru_cache(maxsize=1)
def font_file() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "setting type needs the 'manimgx-fonts' package: pip install manimgx-fonts"
        )
    return Path(list(spec.submodule_search_locations)[0]) / FILE


@lru_cache(maxsize=128)
def font(size: int, weight: int = 700) -> ImageFont.FreeTypeFont:
    face = ImageFont.truetype(str(font_file()), size)
    face.set_variation_by_axes([weight])
    return face


def fit_font(text: str, max_width: int, max_size: int, *, weight: int = 700, min_size: int = 10):
    """The largest font (at most `max_size` px) in which `text` is no wider than `max_width`."""
    size = max_size
    while size > min_size:
        face = font(size, weight)
        if face.getlength(text) <= max_width:
            return face
        size = max(min_size, int(size * 0.92))
    return font(min_size, weight)
