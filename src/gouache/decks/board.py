"""The one-page brand board: every asset of a kit on one PNG, with the palette and its hex codes."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from gouache.decks.palette import Palette, hex_to_rgb, ink_for
from gouache.decks.typeset import fit_font, font

WIDTH = 2400
MARGIN = 80
GAP = 36
LABEL = (110, 110, 110)
PAPER = (247, 246, 243)


def _thumb(path: Path, height: int) -> Image.Image:
    with Image.open(path) as image:
        image = image.convert("RGB")
        width = max(1, round(image.width * height / image.height))
        return image.resize((width, height), Image.Resampling.LANCZOS)


def _row(board: Image.Image, images: list[Image.Image], top: int) -> None:
    left = MARGIN
    for image in images:
        board.paste(image, (left, top))
        ImageDraw.Draw(board).rectangle(
            (left - 1, top - 1, left + image.width, top + image.height), outline=(220, 220, 220)
        )
        left += image.width + GAP


def _fit_row(paths: list[Path], height: int, room: int) -> list[Image.Image]:
    """Thumbnails at `height`, shrunk together if the row would be wider than `room`."""
    thumbs = [_thumb(path, height) for path in paths]
    total = sum(t.width for t in thumbs) + GAP * (len(thumbs) - 1)
    if total > room:
        return [
            _thumb(
                path,
                int(height * (room - GAP * (len(paths) - 1)) / (total - GAP * (len(paths) - 1))),
            )
            for path in paths
        ]
    return thumbs


def draw_board(
    name: str,
    description: str,
    palette: Palette,
    logos: list[Path],
    social: list[Path],
    slides: list[Path],
    out: Path,
) -> Path:
    """Header with the name; rows of logo drafts, social images and slide backgrounds; the
    palette's swatches beside the slide backgrounds."""
    swatch_column = 720
    rows = [
        ("Logo drafts", _fit_row(logos, 300, WIDTH - 2 * MARGIN)),
        ("Social images", _fit_row(social, 420, WIDTH - 2 * MARGIN)),
        ("Slide backgrounds", _fit_row(slides, 400, WIDTH - 2 * MARGIN - swatch_column - GAP)),
    ]
    header = 300
    height = header + 60 + sum(60 + max(t.height for t in thumbs) + 50 for _, thumbs in rows)
    height += MARGIN - 50
    board = Image.new("RGB", (WIDTH, height), PAPER)
    draw = ImageDraw.Draw(board)
    primary = hex_to_rgb(palette.colours[0])
    draw.rectangle((0, 0, WIDTH, header), fill=primary)
    ink = ink_for(primary, palette)
    title = fit_font(name, WIDTH - 2 * MARGIN, 130)
    draw.text((MARGIN, 120), name, font=title, fill=ink, anchor="lm")
    if description:
        subtitle = fit_font(description, WIDTH - 2 * MARGIN, 44, weight=400)
        draw.text((MARGIN, 225), description, font=subtitle, fill=ink, anchor="lm")
    top = header + 60
    label_font = font(34, 600)
    for label, thumbs in rows:
        draw.text((MARGIN, top), label.upper(), font=label_font, fill=LABEL)
        _row(board, thumbs, top + 60)
        row_height = max(t.height for t in thumbs)
        if label == "Slide backgrounds":
            left = WIDTH - MARGIN - swatch_column
            draw.text((left, top), "PALETTE", font=label_font, fill=LABEL)
            _swatches(draw, palette, left, top + 60, swatch_column, row_height)
        top += 60 + row_height + 50
    out.parent.mkdir(parents=True, exist_ok=True)
    board.save(out, format="PNG")
    return out


def _swatches(
    draw: ImageDraw.ImageDraw, palette: Palette, left: int, top: int, width: int, height: int
) -> None:
    """The palette as a grid of swatches (two columns), each labelled with its hex code."""
    count = len(palette.colours)
    columns = 1 if count == 1 else 2
    rows = (count + columns - 1) // columns
    cell_w = (width - GAP * (columns - 1)) // columns
    cell_h = (height - GAP * (rows - 1)) // rows
    hex_font = font(max(18, min(34, cell_h // 4)), 600)
    for index, (colour, rgb) in enumerate(zip(palette.colours, palette.rgb, strict=True)):
        x = left + (index % columns) * (cell_w + GAP)
        y = top + (index // columns) * (cell_h + GAP)
        draw.rectangle((x, y, x + cell_w, y + cell_h), fill=rgb, outline=(220, 220, 220))
        label = ink_for(rgb, Palette(("#111111", "#ffffff")))
        draw.text((x + 16, y + cell_h - 14), colour.upper(), font=hex_font, fill=label, anchor="lb")
