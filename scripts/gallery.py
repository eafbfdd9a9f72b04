"""Draw the gallery: a contact sheet of varied prompts, with what the illustrator understood.

    python scripts/gallery.py            # writes docs/gallery.md and docs/gallery/*.png

Each picture is drawn at the size given (natively, as the API would), then saved as a small
thumbnail so the docs stay light.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gouache.illustrator import Illustrator  # noqa: E402

# --- knobs -------------------------------------------------------------------------------------
THUMB = 384  # longest side of a thumbnail, pixels
OUT_DIR = ROOT / "docs" / "gallery"
PAGE = ROOT / "docs" / "gallery.md"
# (prompt, size, seed, style override)
PROMPTS: list[tuple[str, str, int, str | None]] = [
    ("a red running shoe on a white background", "1024x1024", 1, None),
    ("three red circles on a white background", "1024x1024", 1, None),
    ("a laptop on a desk", "1024x1024", 2, None),
    ("a puppy on the left and a kitten on the right in a meadow", "1792x1024", 3, None),
    ("two foxes in a snowy forest at night", "1024x1024", 4, None),
    ("a lighthouse on the beach at sunset", "1024x1024", 5, None),
    ("a sailboat on the ocean", "1792x1024", 6, None),
    ("a camel in the desert", "1024x1024", 7, None),
    ("a rocket in outer space", "1024x1792", 8, None),
    ("a red car in the city at night", "1792x1024", 9, None),
    ("a pair of tiny yellow birds above a big house", "1024x1024", 10, None),
    ("red, blue and yellow balloons in the sky", "1024x1536", 11, None),
    ("a mountain landscape at sunrise with a cabin", "1536x1024", 12, None),
    ("a coffee cup on a table, gouache", "1024x1024", 13, None),
    ("a cat in the top left corner and a dog at the bottom right", "1024x1024", 14, None),
    ("a slide background in navy, gold and white with space for a title", "1792x1024", 15, None),
    ("a banner for a webinar about cloud computing in teal and coral", "1792x1024", 16, None),
    ("a set of brand assets in #1e90ff and coral with a rocket", "1792x1024", 17, None),
    ("brand kit for a coffee shop in brown, cream and mint", "1024x1024", 18, None),
    ("a seamless pattern of cats in pastel colours", "1024x1024", 19, None),
    ("a pattern with stripes in navy and pink", "1024x1024", 20, None),
    ("a gradient background in purple and orange", "1792x1024", 21, None),
    ("a rocket in space, neon style", "1024x1024", 22, None),
    ("a bicycle in the city, retro", "1024x1024", 23, None),
    ("a tree in the snow, line art", "1024x1024", 24, None),
    ("an owl in the forest, monochrome", "1024x1024", 25, None),
    ("a whale and a few fish in the ocean, pastel", "1024x1024", 26, None),
    ("a guitar and headphones on a desk, gouache", "1024x1024", 27, None),
    ("a stack of books next to a potted plant on a shelf", "1024x1024", 28, None),
    ("zxqv blorf, something ineffable", "1024x1024", 29, None),
    ("a happy robot", "1024x1024", 30, None),
    ("a penguin at the beach", "1024x1024", 31, "neon"),
    ("a smiling woman holding a tablet", "1024x1024", 32, None),
    ("two business people shaking hands", "1792x1024", 33, None),
    ("a team meeting in a conference room", "1792x1024", 34, None),
    ("three coffee mugs on a marble countertop", "1024x1024", 35, None),
    ("a data center with server racks", "1792x1024", 36, None),
    ("a bar chart going up", "1024x1024", 37, None),
    ("a pie chart with three slices in blue, green and orange", "1024x1024", 38, None),
    ("a world map with network lines", "1792x1024", 39, None),
    ("a logo concept for a bakery called Rise", "1024x1024", 40, None),
    ("a summer sale banner, 50% off", "1792x1024", 41, None),
    ("a brain inside a light bulb", "1024x1024", 42, None),
    ("a street with no cars", "1792x1024", 43, None),
    ("eine rote Tasse auf dem Tisch", "1024x1024", 44, None),
    ("猫と犬", "1024x1024", 45, None),
    ("🚀🌕", "1024x1024", 46, None),
]
# -----------------------------------------------------------------------------------------------


def slug(text: str) -> str:
    """A file name from a prompt; prompts with no Latin letters (emoji, Japanese) are named by
    their first characters' code points."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48]
    return name or "u" + "-".join(f"{ord(c):x}" for c in text.strip()[:3])


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in OUT_DIR.glob("*.png"):
        old.unlink()
    illustrator = Illustrator()
    rows = []
    for number, (prompt, size, seed, style) in enumerate(PROMPTS, start=1):
        width, height = (int(v) for v in size.split("x"))
        drawing = illustrator.draw(prompt, width=width, height=height, seed=seed, style=style)
        image = drawing.image.copy()
        image.thumbnail((THUMB, THUMB))
        name = f"{number:02d}-{slug(prompt)}.png"
        image.save(OUT_DIR / name, optimize=True)
        shown = prompt if style is None else f"{prompt} (style={style})"
        rows.append((shown, size, seed, drawing.understood, name))
    lines = [
        "# Gallery: the built-in illustrator",
        "",
        "Drawn offline on a CPU by `gouache.illustrator` (the `builtin` engine), no GPU and no",
        "model download. Each picture was drawn at the listed size and is shown as a",
        f"{THUMB}-pixel thumbnail. *Understood* is what the engine returns as `revised_prompt`.",
        "Regenerate with `python scripts/gallery.py`.",
        "",
    ]
    for shown, size, seed, understood, name in rows:
        lines += [
            f"### {shown}",
            "",
            f"`{size}`, seed {seed}. Understood: *{understood}*",
            "",
            f"![{shown}](gallery/{name})",
            "",
        ]
    PAGE.write_text("\n".join(lines))
    print(f"wrote {len(rows)} pictures to {OUT_DIR} and {PAGE}")


if __name__ == "__main__":
    main()
