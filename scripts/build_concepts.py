"""Build the illustrator's concept catalogue: every drawable thing, its glyph, and its embedding.

Why precompute: the catalogue holds ~9,000 names (Material Design Icons plus the monochrome Noto
Emoji); embedding them at start-up would cost seconds, so the vectors are computed once here and
committed as float16. The fonts themselves are NOT copied: the illustrator reads them from the
installed `qtawesome` and `manimgx-fonts` packages at run time; this file only records which
codepoint of which font draws which name.

Run in the main virtualenv after scripts/distill_encoder.py:

    python scripts/build_concepts.py

Outputs: src/gouache/illustrator/data/concepts.json and concepts.npy (float32, uncompressed, so
that serving memory-maps it instead of decompressing and converting it at start).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import unicodedata
from pathlib import Path

import numpy as np
from PIL import ImageFont

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "gouache" / "illustrator" / "data"
sys.path.insert(0, str(ROOT / "src"))

from gouache.illustrator.encoder import StaticEncoder  # noqa: E402
from gouache.illustrator.fonts import FONT_FILES, font_path  # noqa: E402

# --- knobs -------------------------------------------------------------------------------------
# MDI names whose extra words make the glyph a UI state or a decorated variant, not the thing.
UI_WORDS = {
    "off",
    "remove",
    "plus",
    "minus",
    "check",
    "alert",
    "cancel",
    "edit",
    "sync",
    "lock",
    "unlock",
    "settings",
    "cog",
    "search",
    "question",
    "marker",
    "network",
    "box",
    "multiple",
    "export",
    "import",
    "arrow",
    "refresh",
    "clock",
    "pos",
    "outline",
    "wireless",
    "charging",
    "percent",
    "filter",
    "save",
    "badge",
    "star",
    "heart",
    "account",
    "bluetooth",
    "open",
    "closed",
    "bold",
    "thin",
    "thick",
    "half",
    "empty",
    "full",
    "blank",
    "auto",
    "time",
    "cash",
    "eye",
    "key",
    "music",
    "play",
    "pause",
    "stop",
    "align",
    "sort",
    "ascending",
    "descending",
    "bulleted",
    "header",
    "strength",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
}
# Prefixes that name letters, numbers, formatting and software rather than things to draw.
SKIP_PREFIXES = (
    "alpha-",
    "numeric-",
    "format-",
    "roman-numeral",
    "language-",
    "google",
    "microsoft",
    "xbox",
    "nintendo",
    "sony",
    "playstation",
    "abjad",
    "abugida",
    "syllabary",
    "ab-testing",
    "application",
    "text-",
    "table-",
    "view-",
    "file-",
    "folder-",
    "database-",
    "message-",
    "chart-",
    "sort-",
    "order-",
    "page-",
    "arrow",
    "chevron",
    "menu",
    "keyboard-",
    "gesture",
    "cursor",
    "vector-",
    "math-",
    "code-",
    "alphabet",
    "ev-plug",
    "wifi",
    "signal",
)
EXTRA_BRANDS = {"apple", "youtube", "netflix", "amazon", "tesla", "nfc", "usb", "wikipedia"}
EMOJI_RANGES = [
    (0x2600, 0x27BF),
    (0x1F300, 0x1F5FF),
    (0x1F600, 0x1F6FF),
    (0x1F900, 0x1F9FF),
    (0x1FA70, 0x1FAFF),
    (0x2B00, 0x2BFF),
    (0x1F680, 0x1F6FF),
]
EMOJI_SKIP_WORDS = (
    "REGIONAL",
    "KEYCAP",
    "SKIN TONE",
    "VARIATION",
    "COMBINING",
    "SQUARED",
    "CIRCLED",
    "NEGATIVE",
    "DIGIT",
    "LATIN",
    "PARENTHESIZED",
    "ARROW",
)
# -----------------------------------------------------------------------------------------------


def brand_names() -> set[str]:
    """Trademarked logos must never stand in for things ("apple" the fruit, not the logo).
    Font Awesome's brand charmaps are only read here as a list of brand names; nothing of Font
    Awesome is drawn or shipped."""
    folder = Path(importlib.util.find_spec("qtawesome").submodule_search_locations[0]) / "fonts"
    names = set(EXTRA_BRANDS)
    for charmap in folder.glob("fontawesome*-brands-webfont-charmap-*.json"):
        names.update(json.loads(charmap.read_text()))
    return names


def mdi_entries() -> list[tuple[str, str, int, int]]:
    charmap_file = font_path("mdi").with_name(FONT_FILES["mdi"][2])
    charmap = {k: int(v, 16) for k, v in json.loads(charmap_file.read_text()).items()}
    brands = brand_names()
    entries = []
    for name, codepoint in charmap.items():
        words = name.split("-")
        if name in brands or words[0] in brands or name.startswith(SKIP_PREFIXES):
            continue
        if len(words) > 1 and any(w in UI_WORDS for w in words[1:]):
            continue
        outline = charmap.get(name + "-outline", 0)
        entries.append((" ".join(words), "mdi", codepoint, outline))
    return entries


def emoji_entries() -> list[tuple[str, str, int, int]]:
    font = ImageFont.truetype(str(font_path("emoji")), 64)
    missing = bytes(font.getmask(chr(0x10FFFD)))
    entries, seen = [], set()
    for start, end in EMOJI_RANGES:
        for codepoint in range(start, end + 1):
            name = unicodedata.name(chr(codepoint), "")
            if not name or codepoint in seen or any(w in name for w in EMOJI_SKIP_WORDS):
                continue
            mask = font.getmask(chr(codepoint))
            if mask.size[0] == 0 or bytes(mask) == missing:
                continue
            seen.add(codepoint)
            entries.append((name.lower(), "emoji", codepoint, 0))
    return entries


def main() -> None:
    entries = mdi_entries() + emoji_entries()
    encoder = StaticEncoder()
    # Rounded through float16 (the precision the encoder's matrix has), stored as float32.
    vectors = encoder.encode([text for text, *_ in entries]).astype(np.float16).astype(np.float32)
    DATA.mkdir(parents=True, exist_ok=True)
    catalogue = {
        "about": "Drawable concepts: name, font key, codepoint, outline codepoint (0 = none). "
        "Built by scripts/build_concepts.py; fonts are read from installed packages.",
        "names": [e[0] for e in entries],
        "fonts": [e[1] for e in entries],
        "codepoints": [e[2] for e in entries],
        "outlines": [e[3] for e in entries],
    }
    (DATA / "concepts.json").write_text(json.dumps(catalogue, separators=(",", ":")))
    np.save(DATA / "concepts.npy", vectors)
    counts = {key: sum(1 for e in entries if e[1] == key) for key in ("mdi", "emoji")}
    print(json.dumps({"concepts": len(entries), **counts}))


if __name__ == "__main__":
    main()
