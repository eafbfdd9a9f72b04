"""Draw the illustrator's evaluation set into contact sheets, to be looked at and scored by eye.

    python bench/illustrator_quality.py OUT_DIR [--seed 1] [--size 512] [--drafts 1]

Each prompt of bench/data/illustrator_eval.txt is drawn at 1024x1024 (as the API would) and shown
as a thumbnail with its prompt and what the illustrator understood printed under it. Sheets hold
twelve pictures each. The scores themselves are human judgements, recorded in docs/engines.md;
this script also prints the mean drawing time per picture so a change can be kept in budget.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gouache.illustrator import Illustrator  # noqa: E402

EVAL = ROOT / "bench" / "data" / "illustrator_eval.txt"
PER_SHEET = 12
COLUMNS = 4


def prompts() -> list[tuple[str, str]]:
    rows = []
    for line in EVAL.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, prompt = line.split("|", 1)
            rows.append((kind.strip(), prompt.strip()))
    return rows


def caption_font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--thumb", type=int, default=320)
    parser.add_argument("--drafts", type=int, default=1)
    parser.add_argument("--only", default="", help="only prompts of this kind")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    illustrator = Illustrator()
    illustrator.load()
    rows = [r for r in prompts() if not args.only or r[0] == args.only]
    tiles, spent, lines = [], 0.0, []
    font = caption_font(13)
    for number, (kind, prompt) in enumerate(rows, 1):
        for draft in range(args.drafts):
            start = time.perf_counter()
            drawing = illustrator.draw(prompt, width=1024, height=1024, seed=args.seed + draft)
            spent += time.perf_counter() - start
            thumb = drawing.image.convert("RGB").resize((args.thumb, args.thumb), Image.LANCZOS)
            tile = Image.new("RGB", (args.thumb, args.thumb + 92), "white")
            tile.paste(thumb, (0, 0))
            pen = ImageDraw.Draw(tile)
            text = f"{number}. [{kind}] {prompt}"
            wrapped = (
                textwrap.wrap(text, 44)[:3] + textwrap.wrap("-> " + drawing.understood, 44)[:3]
            )
            pen.multiline_text((4, args.thumb + 2), "\n".join(wrapped), fill="black", font=font)
            tiles.append(tile)
            lines.append(f"{number}\t{kind}\t{prompt}\t{drawing.understood}")
    for sheet_no in range(0, len(tiles), PER_SHEET):
        group = tiles[sheet_no : sheet_no + PER_SHEET]
        rows_n = (len(group) + COLUMNS - 1) // COLUMNS
        tw, th = group[0].size
        sheet = Image.new("RGB", (COLUMNS * (tw + 6), rows_n * (th + 6)), (200, 200, 200))
        for k, tile in enumerate(group):
            sheet.paste(tile, ((k % COLUMNS) * (tw + 6), (k // COLUMNS) * (th + 6)))
        sheet.save(args.out / f"sheet-{sheet_no // PER_SHEET + 1:02d}.png")
    (args.out / "understood.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(tiles)} pictures, {1000 * spent / len(tiles):.1f} ms per picture (draw only)")


if __name__ == "__main__":
    main()
